#include "creni/dicom/instance.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "creni/common/atomic_file.hpp"
#include "creni/common/crash_point.hpp"
#include "creni/common/uid.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "creni/dicom/transfer_syntax_detection.hpp"
#include "creni/dicom/transfer_syntaxes.hpp"
#include "j2k_pixel_data.hpp"

namespace creni::dicom {

namespace {

// Values larger than this stay in the file until first accessed, so that loading a 1 GB multi-frame object does
// not allocate its pixel data before the size checks have run.
constexpr Uint32 kMaxReadLength = 4096;

bool starts_with_part10_preamble(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  std::array<char, 132> head{};
  std::size_t got = 0;
  while (got < head.size()) {
    const ssize_t n = ::read(fd, head.data() + got, head.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return got == head.size() && std::memcmp(head.data() + 128, "DICM", 4) == 0;
}

Status zero_preamble(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return make_error("io_error", "cannot open " + path.string() + ": " + std::strerror(errno));
  const std::array<char, 128> zeros{};
  const ssize_t n = ::pwrite(fd, zeros.data(), zeros.size(), 0);
  const int error_number = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(zeros.size())) {
    return make_error("io_error", "cannot clear preamble of " + path.string() + ": " + std::strerror(error_number));
  }
  return {};
}

}  // namespace

Instance::Instance(std::unique_ptr<DcmFileFormat> file) : file_(std::move(file)) {}
Instance::Instance(Instance&&) noexcept = default;
Instance& Instance::operator=(Instance&&) noexcept = default;
Instance::~Instance() = default;

DcmDataset& Instance::dataset() { return *file_->getDataset(); }
const DcmDataset& Instance::dataset() const { return *file_->getDataset(); }
DcmFileFormat& Instance::file() { return *file_; }

Result<Instance> Instance::load(const std::filesystem::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    // A file that is gone stays gone: that is the input's fate, not a passing fault of the machine.
    const int error_number = errno;
    return make_error(error_number == ENOENT ? "vanished" : "io_error",
                      "cannot stat " + path.string() + ": " + std::strerror(error_number));
  }
  if (S_ISLNK(info.st_mode)) return make_error("symlink", path.string() + " is a symbolic link");
  if (!S_ISREG(info.st_mode)) return make_error("not_dicom", path.string() + " is not a regular file");
  if (info.st_size == 0) return make_error("not_dicom", "empty file");

  const bool part10 = starts_with_part10_preamble(path);
  auto file = std::make_unique<DcmFileFormat>();
  const E_FileReadMode mode =
      !part10 ? ERM_dataset : declares_syntax_unknown_to_dcmtk(path) ? ERM_autoDetect : ERM_fileOnly;
  const OFCondition loaded = file->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, kMaxReadLength, mode);
  if (loaded.bad()) {
    if (!part10) return make_error("not_dicom", std::string("no DICOM preamble and no parsable dataset: ") + loaded.text());
    if (loaded == EC_StreamNotifyClient || loaded == EC_ItemDelimitationItemMissing ||
        loaded == EC_SequDelimitationItemMissing || std::strstr(loaded.text(), "remature") != nullptr) {
      return make_error("truncated", "file of " + std::to_string(info.st_size) + " bytes ends inside an element (" +
                                         loaded.text() + ")");
    }
    return make_error("malformed_dicom", loaded.text());
  }

  Instance instance(std::move(file));
  if (Status identity = instance.read_identity(); !identity) {
    if (!part10) return make_error("not_dicom", "no DICOM preamble and no valid SOP identity: " + identity.error().message);
    return identity.error();
  }
  return instance;
}

Result<Instance> Instance::adopt(std::unique_ptr<DcmFileFormat> file) {
  Instance instance(std::move(file));
  if (Status identity = instance.read_identity(); !identity) return identity.error();
  return instance;
}

Status Instance::read_identity() {
  const struct {
    DcmTagKey tag;
    const char* name;
    std::string* target;
  } required[] = {
      {DCM_SOPClassUID, "SOPClassUID", &identity_.sop_class_uid},
      {DCM_SOPInstanceUID, "SOPInstanceUID", &identity_.sop_instance_uid},
      {DCM_StudyInstanceUID, "StudyInstanceUID", &identity_.study_instance_uid},
      {DCM_SeriesInstanceUID, "SeriesInstanceUID", &identity_.series_instance_uid},
  };
  for (const auto& attribute : required) {
    auto value = uid::validated(string_of(attribute.tag), attribute.name);
    if (!value) return value.error();
    *attribute.target = std::move(value).value();
  }
  identity_.transfer_syntax_uid = transfer_syntax_of(*file_);
  return {};
}

std::string Instance::string_of(const DcmTagKey& tag) const {
  OFString value;
  // DCMTK's getters are not const-qualified; reading does not modify the dataset.
  if (const_cast<DcmDataset&>(dataset()).findAndGetOFStringArray(tag, value).bad()) return {};
  return value.c_str();
}

bool Instance::has_pixel_data() const { return const_cast<DcmDataset&>(dataset()).tagExists(DCM_PixelData); }

Status Instance::decode_pixels(std::uint64_t max_image_bytes) {
  DcmDataset& data = dataset();
  const std::string& syntax = identity_.transfer_syntax_uid;
  const DcmXfer original(syntax.c_str());
  if (!is_decodable_transfer_syntax(syntax) && (original.getXfer() == EXS_Unknown || original.isEncapsulated())) {
    return make_error("unsupported_ts", std::string("no decoder for transfer syntax ") +
                                            (original.getXfer() == EXS_Unknown ? "" : original.getXferName()) + " (" +
                                            syntax + ")");
  }
  if (is_j2k_transfer_syntax(syntax)) {
    if (!has_pixel_data()) return {};
    auto module = read_pixel_module(data, max_image_bytes);
    if (!module) return module.error();
    return decode_j2k_pixel_data(data, module.value());
  }
  if (!original.isEncapsulated()) return {};
  const OFCondition decoded = data.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (decoded.bad() || !data.canWriteXfer(EXS_LittleEndianExplicit)) {
    return make_error("decode_failed", std::string("cannot decode ") + original.getXferName() + ": " + decoded.text());
  }
  data.removeAllButCurrentRepresentations();
  // The offset tables describe encapsulated fragments that no longer exist (PS3.5 section A.4).
  (void)data.findAndDeleteElement(DCM_ExtendedOffsetTable);
  (void)data.findAndDeleteElement(DCM_ExtendedOffsetTableLengths);
  return {};
}

Status Instance::save(const std::filesystem::path& final_path) {
  auto temp = save_unsynced(final_path);
  if (!temp) return temp.error();
  return fs::commit_file(temp.value(), final_path);
}

Result<std::filesystem::path> Instance::save_unsynced(const std::filesystem::path& final_path) {
  DcmDataset& data = dataset();
  if (!data.canWriteXfer(EXS_LittleEndianExplicit)) {
    return make_error("encode_failed", "pixel data is still compressed; decode before saving");
  }
  std::filesystem::path temp = fs::temp_path_for(final_path);
  const OFCondition saved = file_->saveFile(temp.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL,
                                            EPD_noChange, 0, 0, EWM_createNewMeta);
  if (saved.bad()) {
    ::unlink(temp.c_str());
    return make_error("io_error", "cannot write " + temp.string() + ": " + saved.text());
  }
  // The preamble of the input may hold anything (CVE-2019-11687: executable headers); ours is always zeros.
  if (Status cleared = zero_preamble(temp); !cleared) {
    ::unlink(temp.c_str());
    return cleared.error();
  }
  crash_point("output_written_before_rename");
  return temp;
}

}  // namespace creni::dicom
