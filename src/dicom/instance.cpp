#include "creni/dicom/instance.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmf.h>
#include <dcmtk/dcmdata/dcwcache.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "creni/common/atomic_file.hpp"
#include "creni/common/content_hash.hpp"
#include "creni/common/crash_point.hpp"
#include "creni/common/directory.hpp"
#include "creni/common/uid.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "creni/dicom/transfer_syntax_detection.hpp"
#include "creni/dicom/transfer_syntaxes.hpp"
#include "descriptor_stream.hpp"
#include "j2k_pixel_data.hpp"

namespace creni::dicom {

namespace {

// Every value is read while parsing (DescriptorInputStream offers DCMTK no way to come back for it later).
constexpr Uint32 kLoadEverything = 0xFFFFFFFE;

bool starts_with_part10_preamble(int fd) {
  std::array<char, 132> head{};
  std::size_t got = 0;
  while (got < head.size()) {
    const ssize_t n = ::pread(fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  return got == head.size() && std::memcmp(head.data() + 128, "DICM", 4) == 0;
}

// Opens an input for reading (fs::open_regular_file). Anything but a regular file is no DICOM file; an input that
// cannot be read for lack of permission is the machine's side (io_error: retried), not the input's.
Result<fs::OwnedFd> open_input(const std::filesystem::path& path) {
  auto fd = fs::open_regular_file(path);
  if (!fd) {
    const std::string& code = fd.error().code;
    if (code == "not_regular_file") return make_error("not_dicom", path.string() + " is not a regular file");
    if (code == "unreadable") return make_error("io_error", fd.error().message);
    return fd.error();
  }
  struct stat info {};
  if (::fstat(fd->get(), &info) != 0) return make_error("io_error", "cannot stat " + path.string() + ": " + std::strerror(errno));
  if (info.st_size == 0) return make_error("not_dicom", "empty file");
  return fd;
}

Status write_zero_preamble(int fd, const std::filesystem::path& path) {
  const std::array<char, 128> zeros{};
  if (::pwrite(fd, zeros.data(), zeros.size(), 0) != static_cast<ssize_t>(zeros.size())) {
    return make_error("io_error", "cannot clear preamble of " + path.string() + ": " + std::strerror(errno));
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
  auto fd = open_input(path);
  if (!fd) return fd.error();
  const bool part10 = starts_with_part10_preamble(fd->get());
  auto meta = read_meta_identity(fd->get());
  // The content hash covers the data set only, from where the arrival's hash started (JournalArrivalSink).
  Sha256 hash;
  DescriptorInputStream stream(fd->get(), meta ? meta->dataset_offset : 0, hash);
  auto file = std::make_unique<DcmFileFormat>();
  OFCondition loaded = stream.status();
  if (loaded.good()) {
    DcmObject& target = part10 ? static_cast<DcmObject&>(*file) : static_cast<DcmObject&>(*file->getDataset());
    // A meta header naming a syntax DCMTK does not know (HTJ2K) makes DCMTK refuse a Part 10 file in file-only mode.
    const bool unknown_syntax = meta && is_unknown_to_dcmtk(meta->transfer_syntax_uid);
    if (part10) file->setReadMode(unknown_syntax ? ERM_autoDetect : ERM_fileOnly);
    target.transferInit();
    loaded = target.read(stream, EXS_Unknown, EGL_noChange, kLoadEverything);
    target.transferEnd();
    file->setReadMode(ERM_autoDetect);
  }
  if (!stream.good()) return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(errno));
  if (loaded.bad()) {
    if (!part10) return make_error("not_dicom", std::string("no DICOM preamble and no parsable dataset: ") + loaded.text());
    // EC_InvalidStream: DCMTK found a value longer than what is left of the file.
    if (loaded == EC_StreamNotifyClient || loaded == EC_InvalidStream || loaded == EC_ItemDelimitationItemMissing ||
        loaded == EC_SequDelimitationItemMissing || std::strstr(loaded.text(), "remature") != nullptr) {
      return make_error("truncated", "file ends inside an element (" + std::string(loaded.text()) + ")");
    }
    return make_error("malformed_dicom", loaded.text());
  }
  if (!stream.finish()) return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(errno));

  Instance instance(std::move(file));
  if (Status identity = instance.read_identity(); !identity) {
    if (!part10) return make_error("not_dicom", "no DICOM preamble and no valid SOP identity: " + identity.error().message);
    return identity.error();
  }
  instance.content_hash_ = hash.hex_digest();
  if (meta) instance.meta_ = std::move(meta).value();
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
  auto folder = fs::Directory::open_root(final_path.parent_path(), /*create=*/false);
  if (!folder) return folder.error();
  auto temp = save_unsynced_in(*folder, final_path.filename().string());
  if (!temp) return temp.error();
  return folder->path() / temp.value();
}

Result<std::string> Instance::save_unsynced_in(const fs::Directory& folder, const std::string& final_name) {
  DcmDataset& data = dataset();
  if (!data.canWriteXfer(EXS_LittleEndianExplicit)) {
    return make_error("encode_failed", "pixel data is still compressed; decode before saving");
  }
  std::string temp = fs::temp_path_for(folder.path() / final_name).filename().string();
  auto created = folder.create_file(temp);
  if (!created) return created.error();
  const std::filesystem::path shown = folder.path() / temp;
  auto fail = [&](Error error) -> Result<std::string> {
    folder.remove(temp);
    return error;
  };
  // DCMTK writes through a FILE of its own (closed by the stream); the descriptor stays ours for the preamble.
  const int stream_fd = ::dup(created->get());
  FILE* stream_file = stream_fd >= 0 ? ::fdopen(stream_fd, "wb") : nullptr;
  if (stream_file == nullptr) {
    if (stream_fd >= 0) ::close(stream_fd);
    return fail(make_error("io_error", "cannot write " + shown.string() + ": " + std::strerror(errno)));
  }
  OFCondition saved = EC_Normal;
  {
    DcmOutputFileStream stream(stream_file);
    DcmWriteCache cache;
    file_->transferInit();
    saved = file_->write(stream, EXS_LittleEndianExplicit, EET_ExplicitLength, &cache, EGL_recalcGL, EPD_noChange, 0,
                         0, 0, EWM_createNewMeta);
    file_->transferEnd();
    stream.flush();
    if (saved.good() && !stream.good()) saved = stream.status();
  }
  if (saved.bad()) return fail(make_error("io_error", "cannot write " + shown.string() + ": " + saved.text()));
  // The preamble of the input may hold anything (CVE-2019-11687: executable headers); ours is always zeros.
  if (Status cleared = write_zero_preamble(created->get(), shown); !cleared) return fail(cleared.error());
  crash_point("output_written_before_rename");
  return temp;
}

}  // namespace creni::dicom
