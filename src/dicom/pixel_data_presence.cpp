#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "creni/dicom/image_storage_classes.hpp"
#include "element_header.hpp"

namespace creni::dicom {

namespace {

using element_header::Encoding;
using element_header::kUndefinedLength;
using element_header::read16;
using element_header::read32;

// Enough for any real data set's element count (a large enhanced multi-frame header has some 10^5); a file that
// needs more is left to a worker rather than walked for ever.
constexpr int kMaxElements = 1'000'000;
constexpr std::uint32_t kPixelData = 0x7FE00010;
constexpr std::uint32_t kFloatPixelData = 0x7FE00008;
constexpr std::uint32_t kDoubleFloatPixelData = 0x7FE00009;
constexpr std::uint16_t kItemGroup = 0xFFFE;
constexpr std::uint16_t kItem = 0xE000;

// Reads up to 12 bytes at `offset` (an element header at most); fewer only at the end of the file.
Result<std::size_t> read_header(int fd, std::uint64_t offset, std::array<std::uint8_t, 12>& out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + filled, out.size() - filled, static_cast<off_t>(offset + filled));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("io_error", std::string("cannot read: ") + std::strerror(errno));
    if (n == 0) break;
    filled += static_cast<std::size_t>(n);
  }
  return filled;
}

}  // namespace

Result<bool> has_pixel_data(int fd, const MetaIdentity& meta) {
  if (meta.transfer_syntax_uid == UID_DeflatedExplicitVRLittleEndianTransferSyntax) {
    return make_error("undetermined", "deflated data set");
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0) return make_error("io_error", std::string("cannot stat: ") + std::strerror(errno));
  const auto file_size = static_cast<std::uint64_t>(info.st_size);
  const Encoding encoding = element_header::encoding_of(meta.transfer_syntax_uid);
  const bool big = encoding == Encoding::explicit_big;
  std::array<std::uint8_t, 12> bytes{};
  std::uint64_t pos = meta.dataset_offset;
  // How many sequences and items of undefined length the walk is inside: only depth 0 is the data set's top level.
  std::uint64_t depth = 0;
  for (int count = 0; count < kMaxElements; ++count) {
    if (pos >= file_size) {
      if (depth != 0) return make_error("malformed", "a sequence of undefined length is not closed");
      return false;
    }
    auto got = read_header(fd, pos, bytes);
    if (!got) return got.error();
    if (got.value() < 8) return make_error("malformed", "an element header overruns the file");
    const std::uint16_t group = read16(bytes.data(), big);
    const std::uint32_t tag = (static_cast<std::uint32_t>(group) << 16) | read16(bytes.data() + 2, big);
    if (group == kItemGroup) {
      // Items and delimiters have no VR in any syntax (PS3.5 section 7.5).
      if (depth == 0) return make_error("malformed", "an item or delimiter at the top level");
      const std::uint32_t length = read32(bytes.data() + 4, big);
      if ((tag & 0xFFFF) != kItem) {
        --depth;  // item or sequence delimitation
        pos += 8;
      } else if (length == kUndefinedLength) {
        ++depth;
        pos += 8;
      } else {
        pos += 8 + static_cast<std::uint64_t>(length);
      }
      continue;
    }
    if (depth == 0 && (tag == kPixelData || tag == kFloatPixelData || tag == kDoubleFloatPixelData)) return true;
    std::uint64_t header = 8;
    std::uint32_t length = 0;
    if (encoding == Encoding::implicit_little) {
      length = read32(bytes.data() + 4, false);
    } else if (!element_header::is_vr(bytes.data() + 4)) {
      return make_error("malformed", "an element without a VR");
    } else if (element_header::has_long_length(bytes.data() + 4)) {
      if (got.value() < 12) return make_error("malformed", "an element header overruns the file");
      header = 12;
      length = read32(bytes.data() + 8, big);
      // A UN value of undefined length is implicit VR inside (PS3.5 section 6.2.2): not worth a second walker.
      if (length == kUndefinedLength && bytes[4] == 'U' && bytes[5] == 'N') {
        return make_error("undetermined", "a UN value of undefined length");
      }
    } else {
      length = read16(bytes.data() + 6, big);
    }
    if (length == kUndefinedLength) {
      ++depth;  // a sequence (or encapsulated data) whose items follow
      pos += header;
      continue;
    }
    if (pos + header + length > file_size) return make_error("malformed", "an element value overruns the file");
    pos += header + length;
  }
  return make_error("undetermined", "more than a million elements");
}

}  // namespace creni::dicom
