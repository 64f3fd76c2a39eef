#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "creni/common/result.hpp"
#include "creni/dicom/part10_meta.hpp"

class DcmFileFormat;
class DcmDataset;
class DcmTagKey;

namespace creni::fs {
class Directory;
}

namespace creni::dicom {

/// The UIDs that identify an instance, validated when it is loaded (PS3.5 section 9.1).
struct InstanceIdentity {
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;
  std::string series_instance_uid;
  std::string transfer_syntax_uid;  ///< as read from the file (meta header, or detected for a bare dataset)
};

/// One DICOM object in memory; owns its DcmFileFormat. Belongs to one stage at a time; not thread-safe.
/// Loaded completely: the file is opened once, read once and never opened again by its path, so an input replaced
/// or rewritten after loading cannot change what is processed.
class Instance {
 public:
  /// Loads a Part 10 file, or a bare dataset without meta header when strict parsing yields valid SOP Class and
  /// SOP Instance UIDs (documented policy for no-meta files). Errors (Error::code):
  ///  - "not_dicom": empty, unreadable as DICOM, or a bare dataset without the identifying UIDs;
  ///  - "truncated": a Part 10 file that ends inside an element;
  ///  - "malformed_dicom": a Part 10 file DCMTK cannot parse for another reason;
  ///  - "invalid_uid": SOP Class/Instance, Study or Series Instance UID missing or not a valid UID;
  ///  - "symlink": the path is a symbolic link (never followed); "input_vanished": there is no such file;
  ///  - "io_error": the file cannot be opened or read.
  /// The bytes parsed are hashed as they are read (content_hash()): the caller can tell whether they are the bytes
  /// it was given to process.
  [[nodiscard]] static Result<Instance> load(const std::filesystem::path& path);

  /// Wraps an object built in memory (tests, the factory); validates the identity like load().
  [[nodiscard]] static Result<Instance> adopt(std::unique_ptr<DcmFileFormat> file);

  Instance(Instance&&) noexcept;
  Instance& operator=(Instance&&) noexcept;
  ~Instance();

  [[nodiscard]] DcmDataset& dataset();
  [[nodiscard]] const DcmDataset& dataset() const;
  [[nodiscard]] DcmFileFormat& file();

  /// The identity read at load time; UIDs changed later by processing are not reflected here.
  [[nodiscard]] const InstanceIdentity& identity() const { return identity_; }

  /// SHA-256 (lowercase hex) of the loaded file's data set bytes (after the meta header, or the whole file
  /// without one), as the node hashes an arrival; "" for an adopted object.
  [[nodiscard]] const std::string& content_hash() const { return content_hash_; }

  /// The file's meta header as read (nullopt without one, or for an adopted object).
  [[nodiscard]] const std::optional<MetaIdentity>& meta() const { return meta_; }

  /// The element's value as a string (all values, backslash-separated), or "" when absent or empty.
  [[nodiscard]] std::string string_of(const DcmTagKey& tag) const;

  /// True when the dataset holds a Pixel Data element.
  [[nodiscard]] bool has_pixel_data() const;

  /// Converts pixel data to native (uncompressed, little endian) representation in memory: DCMTK's codecs, or
  /// OpenJPEG for JPEG 2000 and HTJ2K (see transfer_syntaxes.hpp). `max_image_bytes` caps the declared size checked
  /// before a JPEG 2000 decode. Errors: "unsupported_ts" (no decoder for the transfer syntax), "decode_failed" (the
  /// codec failed), and for JPEG 2000 those of read_pixel_module and "invalid_pixel_module" (a codestream that
  /// disagrees with the pixel module).
  [[nodiscard]] Status decode_pixels(std::uint64_t max_image_bytes = UINT64_MAX);

  /// Writes the object as Explicit VR Little Endian with a fresh meta header (MediaStorageSOPInstanceUID equals
  /// the dataset's SOP Instance UID) and a zeroed preamble, atomically: temporary sibling, fsync, rename, fsync
  /// of the directory. Requires decoded pixels when the input was compressed. Errors: "io_error", "encode_failed".
  [[nodiscard]] Status save(const std::filesystem::path& final_path);

  /// The first half of save(): writes the object, encoded as save() does, to a temporary sibling of `final_path`
  /// and returns the sibling's path, neither synced nor renamed. fs::commit_file(temporary, final_path) is the
  /// second half; it may run in another process (workers leave it to the node, which syncs while they work on).
  /// Errors: "io_error", "encode_failed" (nothing is left behind).
  [[nodiscard]] Result<std::filesystem::path> save_unsynced(const std::filesystem::path& final_path);

  /// save_unsynced() into an open folder: the temporary file is created there by name with O_EXCL and
  /// O_NOFOLLOW, and its name (not a path) is returned. Errors: as save_unsynced().
  [[nodiscard]] Result<std::string> save_unsynced_in(const fs::Directory& folder, const std::string& final_name);

 private:
  explicit Instance(std::unique_ptr<DcmFileFormat> file);
  Status read_identity();

  std::unique_ptr<DcmFileFormat> file_;
  InstanceIdentity identity_;
  std::string content_hash_;
  std::optional<MetaIdentity> meta_;
};

}  // namespace creni::dicom
