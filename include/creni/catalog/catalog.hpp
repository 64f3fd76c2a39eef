#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/sqlite/connection.hpp"

class DcmDataset;

namespace creni::catalog {

/// One image's entry in a gateway's `image.db`: column -> value for each of the four tables (patient, study,
/// series, image). Only the tables' own columns are allowed (not `id` or `referenceId`, which the catalog keeps).
/// Values are stored as text exactly as given; multi-valued DICOM attributes use DICOM's backslash form
/// ("ORIGINAL\PRIMARY\AXIAL", "0.5\0.5"). An empty value means "unknown": it never overwrites a stored value.
struct CatalogRecord {
  std::vector<std::pair<std::string, std::string>> patient, study, series, image;
};

/// The column values read from a dataset's top level: every column of the four tables that is a DICOM keyword
/// and has a non-empty value, in the tables' column order; numbers as DICOM text ("512", "0"), multiple values
/// joined with backslashes. `PlaceHoler` and `PrivateCreator` are never set (the gateways keep the image file's
/// path in `PrivateCreator`: callers add it). Does not modify the dataset (DCMTK's find calls are not const).
[[nodiscard]] CatalogRecord record_from_dataset(DcmDataset& dataset);

/// record_from_dataset() plus the absolute path of the file the dataset is stored as, in `PrivateCreator`.
[[nodiscard]] CatalogRecord record_from_dataset(DcmDataset& dataset, const std::filesystem::path& stored_as);

/// record_from_dataset() of a DICOM file's header (parsing stops before Pixel Data), with the file's absolute
/// path in `PrivateCreator`, as the gateways keep it. Error "unreadable" when the file cannot be parsed.
[[nodiscard]] Result<CatalogRecord> record_from_file(const std::filesystem::path& file);

/// An image row to remove: its SOP Instance UID and the file it names (`PrivateCreator`).
struct StoredImage {
  std::string sop_instance_uid;
  std::filesystem::path stored_as;  ///< made absolute before comparing, as record_from_dataset stores it
};

/// One gateway's `image.db` tag index (tables patient -> study -> series -> image, each row linked to its parent
/// by `referenceId`), compatible with the files the gateways write and read: same schema, default rollback
/// journal (no WAL, so that the gateways' own readers see every change), busy timeout 5 s.
/// Several processes may write the same file: each upsert is one BEGIN IMMEDIATE transaction.
/// Thread-safe (calls on one Catalog are serialised); errors "sqlite_error" and "busy" on every call.
class Catalog {
 public:
  /// Opens `file` for reading and writing, creating it with the gateways' schema when it is new (tables that
  /// are missing are created; existing ones are left exactly as they are).
  [[nodiscard]] static Result<std::unique_ptr<Catalog>> open_for_writing(const std::filesystem::path& file);

  /// Opens an existing `file` for reading only; never creates or changes anything.
  [[nodiscard]] static Result<std::unique_ptr<Catalog>> open_read_only(const std::filesystem::path& file);

  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;
  ~Catalog();

  /// Adds or updates one image and its parents in one transaction: the study, series and image rows are found
  /// by their UIDs (and updated with the record's non-empty values) or inserted; the patient is the study's own
  /// patient when the record does not name another, else found by PatientID (and PatientName when given), else
  /// inserted. Every row's referenceId points at its parent. Idempotent.
  /// Errors: "invalid_record" (unknown column, missing StudyInstanceUID, SeriesInstanceUID or SOPInstanceUID).
  [[nodiscard]] Status upsert(const CatalogRecord& record);
  /// upsert() for several images in one transaction (all or nothing).
  [[nodiscard]] Status upsert_all(const std::vector<CatalogRecord>& records);

  /// Whether an image row with this SOP Instance UID exists.
  [[nodiscard]] Result<bool> contains_image(const std::string& sop_instance_uid);

  /// Removes, in one transaction, each image row with this SOP Instance UID that names this file (a row that
  /// names another file, such as a gateway's own copy, stays), then every series, study and patient of theirs
  /// left without children: a study is never left half removed. Unknown images are ignored, so a repeated call
  /// after a crash converges. Returns how many image rows were removed.
  [[nodiscard]] Result<int> remove_images(const std::vector<StoredImage>& images);

  /// The image row and its series, study and patient rows (non-NULL known columns only), read in one
  /// transaction; nullopt when the image is not in the catalog.
  [[nodiscard]] Result<std::optional<CatalogRecord>> find_image(const std::string& sop_instance_uid);

 private:
  explicit Catalog(sqlite::Connection connection);
  // One record inside the caller's transaction (mutex_ held).
  Status upsert_in_transaction(const CatalogRecord& record);

  std::mutex mutex_;  // serialises every use of connection_
  sqlite::Connection connection_;
};

}  // namespace creni::catalog
