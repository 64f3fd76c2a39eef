#include "spool_record.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "creni/common/content_hash.hpp"

namespace creni::ingest {

namespace {

// Layout of the 128-byte preamble: magic, file size (little endian), raw SHA-256, then the gateway id and the
// association id, each as a length byte and its characters in a field of fixed width.
constexpr std::size_t kPreamble = 128;
constexpr std::array<char, 8> kMagic = {'C', 'R', 'E', 'N', 'I', 'A', 'R', '1'};
constexpr std::size_t kSizeAt = 8;
constexpr std::size_t kHashAt = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::size_t kGatewayAt = 48;
constexpr std::size_t kGatewayWidth = 32;
constexpr std::size_t kAssociationAt = kGatewayAt + 1 + kGatewayWidth;
constexpr std::size_t kAssociationWidth = kPreamble - kAssociationAt - 1;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool put_field(std::array<unsigned char, kPreamble>& preamble, std::size_t at, std::size_t width,
               const std::string& text) {
  if (text.size() > width) return false;
  preamble[at] = static_cast<unsigned char>(text.size());
  std::memcpy(preamble.data() + at + 1, text.data(), text.size());
  return true;
}

std::optional<std::string> get_field(const std::array<unsigned char, kPreamble>& preamble, std::size_t at,
                                     std::size_t width) {
  const std::size_t size = preamble[at];
  if (size > width) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(preamble.data() + at + 1), size);
}

}  // namespace

Status write_spool_record(int fd, const SpoolRecord& record) {
  std::array<unsigned char, kPreamble> preamble{};
  std::memcpy(preamble.data(), kMagic.data(), kMagic.size());
  for (std::size_t i = 0; i < 8; ++i) preamble[kSizeAt + i] = static_cast<unsigned char>(record.file_size >> (8 * i));
  if (record.content_hash.size() != 2 * kHashBytes) return make_error("invalid_record", "content hash is not SHA-256");
  for (std::size_t i = 0; i < kHashBytes; ++i) {
    const int high = hex_value(record.content_hash[2 * i]);
    const int low = hex_value(record.content_hash[2 * i + 1]);
    if (high < 0 || low < 0) return make_error("invalid_record", "content hash is not lowercase hex");
    preamble[kHashAt + i] = static_cast<unsigned char>(high * 16 + low);
  }
  if (!put_field(preamble, kGatewayAt, kGatewayWidth, record.gateway_id) ||
      !put_field(preamble, kAssociationAt, kAssociationWidth, record.association)) {
    return make_error("invalid_record", "gateway or association id too long for the spool record");
  }
  const ssize_t written = ::pwrite(fd, preamble.data(), preamble.size(), 0);
  if (written != static_cast<ssize_t>(preamble.size())) {
    return make_error("io_error", std::string("cannot write the spool record: ") +
                                      (written < 0 ? std::strerror(errno) : "short write"));
  }
  return {};
}

std::optional<SpoolRecord> read_spool_record(int fd) {
  std::array<unsigned char, kPreamble> preamble{};
  if (::pread(fd, preamble.data(), preamble.size(), 0) != static_cast<ssize_t>(preamble.size())) return std::nullopt;
  if (std::memcmp(preamble.data(), kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  SpoolRecord record;
  for (std::size_t i = 0; i < 8; ++i) record.file_size |= static_cast<std::uint64_t>(preamble[kSizeAt + i]) << (8 * i);
  record.content_hash = lowercase_hex(preamble.data() + kHashAt, kHashBytes);
  auto gateway = get_field(preamble, kGatewayAt, kGatewayWidth);
  auto association = get_field(preamble, kAssociationAt, kAssociationWidth);
  if (!gateway || !association) return std::nullopt;
  record.gateway_id = std::move(*gateway);
  record.association = std::move(*association);
  return record;
}

}  // namespace creni::ingest
