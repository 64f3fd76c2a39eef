#include "creni/common/content_hash.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "creni/common/directory.hpp"

namespace creni {

struct Sha256::State {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

Sha256::Sha256() : state_(std::make_unique<State>()) { EVP_DigestInit_ex(state_->context.get(), EVP_sha256(), nullptr); }
Sha256::~Sha256() = default;

void Sha256::update(const void* bytes, std::size_t size) { EVP_DigestUpdate(state_->context.get(), bytes, size); }

std::string Sha256::hex_digest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->context.get(), digest, &length);
  return lowercase_hex(digest, length);
}

std::string lowercase_hex(const unsigned char* bytes, std::size_t size) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kHex[bytes[i] >> 4];
    hex += kHex[bytes[i] & 0xf];
  }
  return hex;
}

Result<std::string> sha256_of(int fd, std::uint64_t from_offset) {
  Sha256 hash;
  std::vector<unsigned char> buffer(1 << 16);
  for (auto offset = static_cast<off_t>(from_offset);;) {
    const ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("io_error", std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
    offset += n;
  }
  return hash.hex_digest();
}

Result<std::string> sha256_of_file(const std::filesystem::path& path, std::uint64_t from_offset) {
  auto fd = fs::open_regular_file(path);
  if (!fd) {
    // Callers tell apart only what the file is (not_regular_file) and a permission problem (unreadable).
    const std::string& code = fd.error().code;
    if (code == "not_regular_file" || code == "unreadable") return fd.error();
    return make_error("io_error", fd.error().message);
  }
  auto hash = sha256_of(fd->get(), from_offset);
  if (!hash) return make_error("io_error", hash.error().message + " (" + path.string() + ")");
  return hash;
}

}  // namespace creni
