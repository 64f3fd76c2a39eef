#include "creni/dicom/dataset_identity.hpp"

#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "creni/common/uid.hpp"
#include "element_header.hpp"

namespace creni::dicom {

namespace {

constexpr std::size_t kPreamble = 128;
constexpr std::size_t kMetaStart = kPreamble + 4;  // preamble + "DICM"
constexpr std::size_t kMaxMetaBytes = 64 * 1024;
constexpr std::size_t kWindowBytes = 64 * 1024;
constexpr std::uint32_t kSopClassTag = 0x00080016;
constexpr std::uint32_t kSopInstanceTag = 0x00080018;

using element_header::Encoding;
using element_header::encoding_of;
using element_header::has_long_length;
using element_header::is_vr;
using element_header::kUndefinedLength;
using element_header::read16;
using element_header::read32;

class ReadOnlyFile {
 public:
  explicit ReadOnlyFile(const std::filesystem::path& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) {}
  ~ReadOnlyFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  ReadOnlyFile(const ReadOnlyFile&) = delete;
  ReadOnlyFile& operator=(const ReadOnlyFile&) = delete;
  [[nodiscard]] bool valid() const { return fd_ >= 0; }

  // Reads up to `size` bytes at `offset`; fewer only at the end of the file. -1 on error.
  long read_at(std::uint64_t offset, std::uint8_t* out, std::size_t size) const {
    std::size_t filled = 0;
    while (filled < size) {
      const ssize_t n = ::pread(fd_, out + filled, size - filled, static_cast<off_t>(offset + filled));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return -1;
      if (n == 0) break;
      filled += static_cast<std::size_t>(n);
    }
    return static_cast<long>(filled);
  }

  [[nodiscard]] std::uint64_t size() const {
    struct stat info {};
    return ::fstat(fd_, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
  }

 private:
  int fd_;
};

struct MetaLayout {
  std::string transfer_syntax_uid;
  std::uint64_t dataset_offset = 0;
};

// The group 0002 elements are always Explicit VR Little Endian (PS3.10 section 7.1); the data set starts at the
// first element of another group.
Result<MetaLayout> read_meta_layout(const ReadOnlyFile& file, const std::filesystem::path& path) {
  std::vector<std::uint8_t> head(kMetaStart + kMaxMetaBytes);
  const long got = file.read_at(0, head.data(), head.size());
  if (got < 0) return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(errno));
  const auto size = static_cast<std::size_t>(got);
  if (size < kMetaStart || std::memcmp(head.data() + kPreamble, "DICM", 4) != 0) {
    return make_error("not_part10", path.string() + ": no DICM prefix");
  }
  MetaLayout layout;
  std::size_t pos = kMetaStart;
  while (pos + 8 <= size && read16(head.data() + pos, false) == 0x0002) {
    const std::uint16_t element = read16(head.data() + pos + 2, false);
    const std::uint8_t* vr = head.data() + pos + 4;
    if (!is_vr(vr)) return make_error("malformed", path.string() + ": bad VR in the meta group");
    std::size_t header = 8;
    std::uint32_t length = read16(head.data() + pos + 6, false);
    if (has_long_length(vr)) {
      if (pos + 12 > size) return make_error("malformed", path.string() + ": meta group truncated");
      header = 12;
      length = read32(head.data() + pos + 8, false);
    }
    if (length == kUndefinedLength || pos + header + length > size) {
      return make_error("malformed", path.string() + ": meta element overruns the file or 64 KiB");
    }
    if (element == 0x0010) {
      const auto* value = reinterpret_cast<const char*>(head.data() + pos + header);
      layout.transfer_syntax_uid = uid::strip_padding(std::string_view(value, length));
    }
    pos += header + length;
  }
  if (layout.transfer_syntax_uid.empty())
    return make_error("not_part10", path.string() + ": no transfer syntax in meta");
  layout.dataset_offset = pos;
  return layout;
}

struct Window {
  std::vector<std::uint8_t> bytes;
  bool truncated = false;  // the data set goes on beyond the window
};

Result<Window> read_plain_window(const ReadOnlyFile& file, std::uint64_t offset, const std::filesystem::path& path) {
  Window window;
  window.bytes.resize(kWindowBytes);
  const long got = file.read_at(offset, window.bytes.data(), window.bytes.size());
  if (got < 0) return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(errno));
  window.bytes.resize(static_cast<std::size_t>(got));
  window.truncated = offset + static_cast<std::uint64_t>(got) < file.size();
  return window;
}

// A deflated data set (PS3.5 section A.5) is inflated through DCMTK's zlib stream filter: still no parsing.
Result<Window> read_inflated_window(std::uint64_t offset, const std::filesystem::path& path) {
  DcmInputFileStream stream(OFFilename(path.c_str()), static_cast<offile_off_t>(offset));
  if (stream.status().bad() || stream.installCompressionFilter(ESC_zlib).bad()) {
    return make_error("io_error", "cannot inflate " + path.string());
  }
  Window window;
  window.bytes.resize(kWindowBytes);
  std::size_t filled = 0;
  while (filled < window.bytes.size() && stream.status().good() && !stream.eos()) {
    const offile_off_t n =
        stream.read(window.bytes.data() + filled, static_cast<offile_off_t>(window.bytes.size() - filled));
    if (n <= 0) break;
    filled += static_cast<std::size_t>(n);
  }
  if (stream.status().bad()) return make_error("malformed", path.string() + ": deflated data set does not inflate");
  window.bytes.resize(filled);
  window.truncated = filled == kWindowBytes;
  return window;
}

// Walks top-level elements until the tag passes (0008,0018): a flat loop, one element header at a time.
Result<DatasetIdentity> scan_window(const Window& window, Encoding encoding, const std::filesystem::path& path) {
  const bool big = encoding == Encoding::explicit_big;
  const std::uint8_t* bytes = window.bytes.data();
  const std::size_t size = window.bytes.size();
  auto short_of_data = [&](const char* what) -> Error {
    return window.truncated ? make_error("undetermined", path.string() + ": " + what + " beyond the first 64 KiB")
                            : make_error("malformed", path.string() + ": " + what + " overruns the data set");
  };
  DatasetIdentity identity;
  std::size_t pos = 0;
  while (pos < size) {
    if (pos + 8 > size) return short_of_data("an element header");
    const std::uint16_t group = read16(bytes + pos, big);
    const std::uint32_t tag = (static_cast<std::uint32_t>(group) << 16) | read16(bytes + pos + 2, big);
    if (tag > kSopInstanceTag) return identity;
    if (group == 0xFFFE) return make_error("malformed", path.string() + ": item delimiter at the top level");
    std::size_t header = 8;
    std::uint32_t length = 0;
    if (encoding == Encoding::implicit_little) {
      length = read32(bytes + pos + 4, false);
    } else if (!is_vr(bytes + pos + 4)) {
      return make_error("malformed", path.string() + ": bad VR before (0008,0018)");
    } else if (has_long_length(bytes + pos + 4)) {
      if (pos + 12 > size) return short_of_data("an element header");
      header = 12;
      length = read32(bytes + pos + 8, big);
    } else {
      length = read16(bytes + pos + 6, big);
    }
    if (length == kUndefinedLength) {
      return make_error("undetermined", path.string() + ": an element of undefined length precedes the SOP UIDs");
    }
    if (pos + header + length > size) return short_of_data("an element value");
    if (tag == kSopClassTag || tag == kSopInstanceTag) {
      const std::string_view value(reinterpret_cast<const char*>(bytes + pos + header), length);
      (tag == kSopClassTag ? identity.sop_class_uid : identity.sop_instance_uid) = uid::strip_padding(value);
    }
    pos += header + length;
  }
  if (window.truncated) return short_of_data("the SOP UIDs");
  return identity;  // the data set ended before (0008,0018)
}

}  // namespace

Result<DatasetIdentity> read_dataset_identity(const std::filesystem::path& file) {
  const ReadOnlyFile input(file);
  if (!input.valid()) return make_error("io_error", "cannot open " + file.string() + ": " + std::strerror(errno));
  auto layout = read_meta_layout(input, file);
  if (!layout) return layout.error();
  auto window = layout->transfer_syntax_uid == UID_DeflatedExplicitVRLittleEndianTransferSyntax
                    ? read_inflated_window(layout->dataset_offset, file)
                    : read_plain_window(input, layout->dataset_offset, file);
  if (!window) return window.error();
  return scan_window(*window, encoding_of(layout->transfer_syntax_uid), file);
}

}  // namespace creni::dicom
