#include "creni/common/content_hash.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "creni/common/owned_fd.hpp"

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
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

Result<std::string> sha256_of_file(const std::filesystem::path& path, std::uint64_t from_offset) {
  const fs::OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) return make_error("io_error", "cannot open " + path.string() + ": " + std::strerror(errno));
  if (from_offset > 0 && ::lseek(fd.get(), static_cast<off_t>(from_offset), SEEK_SET) < 0) {
    return make_error("io_error", "cannot seek in " + path.string() + ": " + std::strerror(errno));
  }
  Sha256 hash;
  std::vector<unsigned char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    hash.update(buffer.data(), static_cast<std::size_t>(n));
  }
  return hash.hex_digest();
}

}  // namespace creni
