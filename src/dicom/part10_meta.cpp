#include "creni/dicom/part10_meta.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "creni/common/owned_fd.hpp"
#include "creni/common/uid.hpp"

namespace creni::dicom {

namespace {

constexpr std::size_t kPreamble = 128;
constexpr std::size_t kMaxMetaBytes = 64 * 1024;

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t le32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
         (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// PS3.5 section 7.1.2: these VRs have a 2-byte reserved field and a 4-byte length.
bool has_long_length(const char vr[2]) {
  static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* candidate : kLong) {
    if (vr[0] == candidate[0] && vr[1] == candidate[1]) return true;
  }
  return false;
}

// The first bytes of the file, read with pread: the descriptor's offset is left where it was.
Result<std::vector<std::uint8_t>> read_head(int fd) {
  std::vector<std::uint8_t> bytes(kPreamble + 4 + kMaxMetaBytes);
  std::size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t n = ::pread(fd, bytes.data() + filled, bytes.size() - filled, static_cast<off_t>(filled));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("io_error", std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  bytes.resize(filled);
  return bytes;
}

std::string uid_value(const std::uint8_t* data, std::size_t length) {
  return uid::strip_padding(std::string_view(reinterpret_cast<const char*>(data), length));
}

}  // namespace

Result<MetaIdentity> read_meta_identity(const std::filesystem::path& file) {
  const fs::OwnedFd fd(::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return make_error("io_error", "cannot open " + file.string() + ": " + std::strerror(errno));
  return read_meta_identity(fd.get());
}

Result<MetaIdentity> read_meta_identity(int fd) {
  auto head = read_head(fd);
  if (!head) return head.error();
  const std::vector<std::uint8_t>& bytes = head.value();
  if (bytes.size() < kPreamble + 4 || std::memcmp(bytes.data() + kPreamble, "DICM", 4) != 0) {
    return make_error("not_part10", "no DICM prefix");
  }
  MetaIdentity identity;
  std::size_t offset = kPreamble + 4;
  bool seen_meta = false;
  while (offset + 8 <= bytes.size()) {
    const std::uint8_t* element = bytes.data() + offset;
    const std::uint16_t group = le16(element);
    const std::uint16_t tag = le16(element + 2);
    if (group != 0x0002) break;
    seen_meta = true;
    const char vr[2] = {static_cast<char>(element[4]), static_cast<char>(element[5])};
    std::size_t header = 8;
    std::uint64_t length = le16(element + 6);
    if (has_long_length(vr)) {
      if (offset + 12 > bytes.size()) return make_error("malformed_meta", "meta element header cut off");
      header = 12;
      length = le32(element + 8);
    }
    if (length == 0xFFFFFFFFu || offset + header + length > bytes.size()) {
      return make_error("malformed_meta", "meta element overruns the meta header");
    }
    const std::uint8_t* value = element + header;
    if (tag == 0x0002) identity.media_storage_sop_class_uid = uid_value(value, length);
    if (tag == 0x0003) identity.media_storage_sop_instance_uid = uid_value(value, length);
    if (tag == 0x0010) identity.transfer_syntax_uid = uid_value(value, length);
    offset += header + static_cast<std::size_t>(length);
  }
  if (!seen_meta) return make_error("not_part10", "no file meta information group");
  identity.dataset_offset = offset;
  for (const std::string* value : {&identity.media_storage_sop_class_uid, &identity.media_storage_sop_instance_uid,
                                   &identity.transfer_syntax_uid}) {
    if (!value->empty() && !uid::is_valid(*value)) return make_error("malformed_meta", "invalid UID in the meta header");
  }
  return identity;
}

}  // namespace creni::dicom
