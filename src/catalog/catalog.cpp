#include "creni/catalog/catalog.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <set>
#include <string_view>

#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"

namespace creni::catalog {

namespace {

constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);

// One column of a gateway table; `tag` is the DICOM attribute of the same keyword, when there is one.
struct Column {
  std::string_view name;
  DcmTagKey tag;
  bool from_dataset = true;
};

enum class Level { patient, study, series, image };

struct Table {
  Level level;
  std::string_view name;
  std::string_view key_column;  // the UID that identifies a row ("" for patient, found by PatientID)
  // The gateways' statements, byte for byte: their readers compare nothing, but sqlite_master keeps this text and
  // an identical schema is the simplest proof of compatibility.
  std::string_view create_table;
  std::string_view create_index;
  std::vector<Column> columns;  // in the table's order, without id and referenceId
};

const std::vector<Table>& tables() {
  static const std::vector<Table> kTables{
      {Level::patient,
       "patient",
       "",
       "CREATE TABLE patient( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, PatientBirthDate TEXT , "
       "PatientSex TEXT , PatientName TEXT , PatientID TEXT , PatientBirthTime TEXT , RETIRED_OtherPatientIDs TEXT , "
       "OtherPatientNames TEXT , EthnicGroup TEXT , PatientComments TEXT , NumberOfPatientRelatedStudies TEXT , "
       "NumberOfPatientRelatedSeries TEXT , NumberOfPatientRelatedInstances TEXT ,  PlaceHoler TEXT );",
       "CREATE INDEX patientIndex ON patient(referenceId);",
       {{"PatientBirthDate", DCM_PatientBirthDate},
        {"PatientSex", DCM_PatientSex},
        {"PatientName", DCM_PatientName},
        {"PatientID", DCM_PatientID},
        {"PatientBirthTime", DCM_PatientBirthTime},
        {"RETIRED_OtherPatientIDs", DCM_RETIRED_OtherPatientIDs},
        {"OtherPatientNames", DCM_OtherPatientNames},
        {"EthnicGroup", DCM_EthnicGroup},
        {"PatientComments", DCM_PatientComments},
        {"NumberOfPatientRelatedStudies", DCM_NumberOfPatientRelatedStudies},
        {"NumberOfPatientRelatedSeries", DCM_NumberOfPatientRelatedSeries},
        {"NumberOfPatientRelatedInstances", DCM_NumberOfPatientRelatedInstances},
        {"PlaceHoler", DcmTagKey(), false}}},
      {Level::study,
       "study",
       "StudyInstanceUID",
       "CREATE TABLE study( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, SpecificCharacterSet TEXT , "
       "StudyDate TEXT , StudyTime TEXT , StudyID TEXT , AccessionNumber TEXT , ReferringPhysicianName TEXT , "
       "StudyDescription TEXT , NameOfPhysiciansReadingStudy TEXT , StudyInstanceUID TEXT UNIQUE, "
       "RETIRED_OtherStudyNumbers TEXT , AdmittingDiagnosesDescription TEXT , PatientAge TEXT , PatientSize TEXT , "
       "PatientWeight TEXT , Occupation TEXT , AdditionalPatientHistory TEXT , NumberOfStudyRelatedSeries TEXT , "
       "NumberOfStudyRelatedInstances TEXT , ModalitiesInStudy TEXT ,  PlaceHoler TEXT );",
       "CREATE INDEX studyIndex ON study(referenceId);",
       {{"SpecificCharacterSet", DCM_SpecificCharacterSet},
        {"StudyDate", DCM_StudyDate},
        {"StudyTime", DCM_StudyTime},
        {"StudyID", DCM_StudyID},
        {"AccessionNumber", DCM_AccessionNumber},
        {"ReferringPhysicianName", DCM_ReferringPhysicianName},
        {"StudyDescription", DCM_StudyDescription},
        {"NameOfPhysiciansReadingStudy", DCM_NameOfPhysiciansReadingStudy},
        {"StudyInstanceUID", DCM_StudyInstanceUID},
        {"RETIRED_OtherStudyNumbers", DCM_RETIRED_OtherStudyNumbers},
        {"AdmittingDiagnosesDescription", DCM_AdmittingDiagnosesDescription},
        {"PatientAge", DCM_PatientAge},
        {"PatientSize", DCM_PatientSize},
        {"PatientWeight", DCM_PatientWeight},
        {"Occupation", DCM_Occupation},
        {"AdditionalPatientHistory", DCM_AdditionalPatientHistory},
        {"NumberOfStudyRelatedSeries", DCM_NumberOfStudyRelatedSeries},
        {"NumberOfStudyRelatedInstances", DCM_NumberOfStudyRelatedInstances},
        {"ModalitiesInStudy", DCM_ModalitiesInStudy},
        {"PlaceHoler", DcmTagKey(), false}}},
      {Level::series,
       "series",
       "SeriesInstanceUID",
       "CREATE TABLE series( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, SeriesNumber TEXT , "
       "SeriesInstanceUID TEXT UNIQUE, Modality TEXT , SeriesDescription TEXT , SeriesDate TEXT , SeriesTime TEXT , "
       "BodyPartExamined TEXT , PatientPosition TEXT , ProtocolName TEXT , NumberOfSeriesRelatedInstances TEXT ,  "
       "PlaceHoler TEXT );",
       "CREATE INDEX seriesIndex ON series(referenceId);",
       {{"SeriesNumber", DCM_SeriesNumber},
        {"SeriesInstanceUID", DCM_SeriesInstanceUID},
        {"Modality", DCM_Modality},
        {"SeriesDescription", DCM_SeriesDescription},
        {"SeriesDate", DCM_SeriesDate},
        {"SeriesTime", DCM_SeriesTime},
        {"BodyPartExamined", DCM_BodyPartExamined},
        {"PatientPosition", DCM_PatientPosition},
        {"ProtocolName", DCM_ProtocolName},
        {"NumberOfSeriesRelatedInstances", DCM_NumberOfSeriesRelatedInstances},
        {"PlaceHoler", DcmTagKey(), false}}},
      {Level::image,
       "image",
       "SOPInstanceUID",
       "CREATE TABLE image( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, InstanceNumber TEXT , "
       "SOPInstanceUID TEXT UNIQUE, SliceLocation TEXT , ImageType TEXT , NumberOfFrames TEXT , Rows TEXT , "
       "Columns TEXT , WindowWidth TEXT , WindowCenter TEXT , PhotometricInterpretation TEXT , RescaleSlope TEXT , "
       "RescaleIntercept TEXT , SamplesPerPixel TEXT , PixelSpacing TEXT , BitsAllocated TEXT , BitsStored TEXT , "
       "HighBit TEXT , PixelRepresentation TEXT , ImagePositionPatient TEXT , ImageOrientationPatient TEXT , "
       "SOPClassUID TEXT , PrivateCreator TEXT ,  PlaceHoler TEXT );",
       "CREATE INDEX imageIndex ON image(referenceId);",
       {{"InstanceNumber", DCM_InstanceNumber},
        {"SOPInstanceUID", DCM_SOPInstanceUID},
        {"SliceLocation", DCM_SliceLocation},
        {"ImageType", DCM_ImageType},
        {"NumberOfFrames", DCM_NumberOfFrames},
        {"Rows", DCM_Rows},
        {"Columns", DCM_Columns},
        {"WindowWidth", DCM_WindowWidth},
        {"WindowCenter", DCM_WindowCenter},
        {"PhotometricInterpretation", DCM_PhotometricInterpretation},
        {"RescaleSlope", DCM_RescaleSlope},
        {"RescaleIntercept", DCM_RescaleIntercept},
        {"SamplesPerPixel", DCM_SamplesPerPixel},
        {"PixelSpacing", DCM_PixelSpacing},
        {"BitsAllocated", DCM_BitsAllocated},
        {"BitsStored", DCM_BitsStored},
        {"HighBit", DCM_HighBit},
        {"PixelRepresentation", DCM_PixelRepresentation},
        {"ImagePositionPatient", DCM_ImagePositionPatient},
        {"ImageOrientationPatient", DCM_ImageOrientationPatient},
        {"SOPClassUID", DCM_SOPClassUID},
        // The gateways keep the image file's path here, not a DICOM private creator.
        {"PrivateCreator", DcmTagKey(), false},
        {"PlaceHoler", DcmTagKey(), false}}},
  };
  return kTables;
}

const Table& table(Level level) { return tables()[static_cast<std::size_t>(level)]; }

using Values = std::vector<std::pair<std::string, std::string>>;

Values& part(CatalogRecord& record, Level level) {
  switch (level) {
    case Level::patient:
      return record.patient;
    case Level::study:
      return record.study;
    case Level::series:
      return record.series;
    case Level::image:
      break;
  }
  return record.image;
}

const Values& part(const CatalogRecord& record, Level level) {
  return part(const_cast<CatalogRecord&>(record), level);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
}

bool is_column_of(const Table& table, std::string_view name) {
  return std::any_of(table.columns.begin(), table.columns.end(),
                     [name](const Column& column) { return column.name == name; });
}

// The record's non-empty values, first occurrence of each column only. Column names are checked against the
// table's own list here because they are spliced into SQL as identifiers.
Result<Values> usable_values(const CatalogRecord& record, const Table& table) {
  Values values;
  std::set<std::string> seen;
  for (const auto& [name, value] : part(record, table.level)) {
    if (!is_column_of(table, name)) {
      return make_error("invalid_record", "\"" + name + "\" is not a column of table " + std::string(table.name));
    }
    if (value.empty() || !seen.insert(name).second) continue;
    values.emplace_back(name, value);
  }
  return values;
}

std::string value_of(const Values& values, std::string_view name) {
  for (const auto& [column, value] : values) {
    if (column == name) return value;
  }
  return {};
}

// Double-quoted SQL identifier; only names from the tables above ever get here.
std::string identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

Result<std::optional<std::int64_t>> query_id(sqlite::Connection& db, const std::string& sql,
                                             const std::vector<std::string>& parameters) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (Status bound = statement->bind(static_cast<int>(i + 1), parameters[i]); !bound) return bound.error();
  }
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{statement->column_int64(0)};
}

Result<std::int64_t> insert_row(sqlite::Connection& db, const Table& table, std::int64_t reference_id,
                                const Values& values) {
  std::string sql = "INSERT INTO " + identifier(table.name) + "(referenceId";
  std::string placeholders = "?";
  for (const auto& [column, value] : values) {
    sql += ", " + identifier(column);
    placeholders += ", ?";
  }
  sql += ") VALUES (" + placeholders + ")";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  if (Status bound = statement->bind(1, reference_id); !bound) return bound.error();
  int index = 2;
  for (const auto& [column, value] : values) {
    if (Status bound = statement->bind(index++, value); !bound) return bound.error();
  }
  auto stepped = statement->step();
  if (!stepped) return stepped.error();
  return db.last_insert_rowid();
}

// Sets the given values (and referenceId when given) on row `id`; columns not in `values` keep what they hold.
Status update_row(sqlite::Connection& db, const Table& table, std::int64_t id,
                  std::optional<std::int64_t> reference_id, const Values& values) {
  if (values.empty() && !reference_id) return {};
  std::string sql = "UPDATE " + identifier(table.name) + " SET ";
  bool first = true;
  if (reference_id) {
    sql += "referenceId = ?";
    first = false;
  }
  for (const auto& [column, value] : values) {
    sql += (first ? "" : ", ") + identifier(column) + " = ?";
    first = false;
  }
  sql += " WHERE id = ?";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  int index = 1;
  if (reference_id) {
    if (Status bound = statement->bind(index++, *reference_id); !bound) return bound;
  }
  for (const auto& [column, value] : values) {
    if (Status bound = statement->bind(index++, value); !bound) return bound;
  }
  if (Status bound = statement->bind(index, id); !bound) return bound;
  auto stepped = statement->step();
  if (!stepped) return stepped.error();
  return {};
}

// Finds the row of `table` by its UID column and updates it, or inserts it; returns its id.
Result<std::int64_t> upsert_by_uid(sqlite::Connection& db, const Table& table, std::int64_t reference_id,
                                   const Values& values) {
  const std::string uid = value_of(values, table.key_column);
  auto existing = query_id(db, "SELECT id FROM " + identifier(table.name) + " WHERE " + identifier(table.key_column) + " = ?",
                           {uid});
  if (!existing) return existing.error();
  if (!existing.value()) return insert_row(db, table, reference_id, values);
  if (Status updated = update_row(db, table, *existing.value(), reference_id, values); !updated) {
    return updated.error();
  }
  return *existing.value();
}

// The patient row for this record (see Catalog::upsert), updated or inserted.
Result<std::int64_t> upsert_patient(sqlite::Connection& db, const Values& values, const Values& study_values) {
  const Table& patients = table(Level::patient);
  const std::string patient_id = value_of(values, "PatientID");
  const std::string patient_name = value_of(values, "PatientName");

  std::optional<std::int64_t> found;
  auto study_patient = query_id(db,
                                "SELECT p.id FROM study s JOIN patient p ON p.id = s.referenceId "
                                "WHERE s.StudyInstanceUID = ? AND (? = '' OR p.PatientID = ?)",
                                {value_of(study_values, "StudyInstanceUID"), patient_id, patient_id});
  if (!study_patient) return study_patient.error();
  found = study_patient.value();

  // Without a PatientID there is nothing to match a patient of another study by: anonymised data often shares
  // a name ("ANONYMOUS") between different people, so such a study gets its own patient row.
  if (!found && !patient_id.empty()) {
    auto by_id = patient_name.empty()
                     ? query_id(db, "SELECT id FROM patient WHERE PatientID = ? ORDER BY id LIMIT 1", {patient_id})
                     : query_id(db, "SELECT id FROM patient WHERE PatientID = ? AND PatientName = ? ORDER BY id LIMIT 1",
                                {patient_id, patient_name});
    if (!by_id) return by_id.error();
    found = by_id.value();
  }
  if (!found) return insert_row(db, patients, 0, values);  // the gateways' patient rows reference nothing: 0
  if (Status updated = update_row(db, patients, *found, std::nullopt, values); !updated) return updated.error();
  return *found;
}

// Reads the row of `table` whose `where_column` equals `value`: its id, its referenceId and its known non-NULL
// columns. nullopt when there is no such row.
struct Row {
  std::int64_t id = 0;
  std::int64_t reference_id = 0;
  Values values;
};

template <typename Key>
Result<std::optional<Row>> read_row(sqlite::Connection& db, const Table& table, std::string_view where_column,
                                    const Key& value) {
  auto statement = db.prepare("SELECT * FROM " + identifier(table.name) + " WHERE " + identifier(where_column) + " = ? LIMIT 1");
  if (!statement) return statement.error();
  if (Status bound = statement->bind(1, value); !bound) return bound.error();
  auto found = statement->step();
  if (!found) return found.error();
  if (!found.value()) return std::optional<Row>{};
  Row row;
  for (int i = 0; i < statement->column_count(); ++i) {
    const std::string name = statement->column_name(i);
    if (name == "id") {
      row.id = statement->column_int64(i);
    } else if (name == "referenceId") {
      row.reference_id = statement->column_int64(i);
    } else if (!statement->column_is_null(i) && is_column_of(table, name)) {
      row.values.emplace_back(name, statement->column_text(i));
    }
  }
  return std::optional<Row>{std::move(row)};
}

Status require(const Values& values, std::string_view column, std::string_view table_name) {
  if (value_of(values, column).empty()) {
    return make_error("invalid_record", "no " + std::string(column) + " for table " + std::string(table_name));
  }
  return {};
}

// Creates the tables that are missing (all of them in a new file) with the gateways' statements.
Status ensure_schema(sqlite::Connection& db) {
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return transaction.error();
  for (const Table& each : tables()) {
    auto exists = query_id(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {std::string(each.name)});
    if (!exists) return exists.error();
    if (exists.value()) continue;
    if (Status created = db.exec(each.create_table); !created) return created;
    if (Status indexed = db.exec(each.create_index); !indexed) return indexed;
  }
  return transaction->commit();
}

}  // namespace

CatalogRecord record_from_dataset(DcmDataset& dataset) {
  CatalogRecord record;
  for (const Table& each : tables()) {
    Values& values = part(record, each.level);
    for (const Column& column : each.columns) {
      if (!column.from_dataset) continue;
      OFString value;
      // Top level only: the same keywords inside sequences describe other images. getOFStringArray gives every
      // value of a multi-valued attribute joined with backslashes, as the gateways store them, for binary VRs
      // (US, FD, ...) too.
      if (dataset.findAndGetOFStringArray(column.tag, value, /*searchIntoSub=*/OFFalse).good() &&
          !value.empty()) {
        values.emplace_back(std::string(column.name), std::string(value.c_str(), value.length()));
      }
    }
  }
  return record;
}

Result<CatalogRecord> record_from_file(const std::filesystem::path& file) {
  DcmFileFormat format;
  // The header only: the columns never come from pixel data, and a large multi-frame result need not be read.
  const OFCondition loaded = format.loadFileUntilTag(file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                                     ERM_autoDetect, DCM_PixelData);
  if (loaded.bad()) return make_error("unreadable", file.string() + ": " + loaded.text());
  return record_from_dataset(*format.getDataset(), file);
}

CatalogRecord record_from_dataset(DcmDataset& dataset, const std::filesystem::path& stored_as) {
  CatalogRecord record = record_from_dataset(dataset);
  record.image.emplace_back("PrivateCreator", std::filesystem::absolute(stored_as).string());
  return record;
}

Catalog::Catalog(sqlite::Connection connection) : connection_(std::move(connection)) {}

Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::open_for_writing(const std::filesystem::path& file) {
  auto connection = sqlite::Connection::open(file, sqlite::OpenMode::read_write_create, kBusyTimeout);
  if (!connection) return connection.error();
  if (Status schema = ensure_schema(connection.value()); !schema) return schema.error();
  return std::unique_ptr<Catalog>(new Catalog(std::move(connection).value()));
}

Result<std::unique_ptr<Catalog>> Catalog::open_read_only(const std::filesystem::path& file) {
  auto connection = sqlite::Connection::open(file, sqlite::OpenMode::read_only, kBusyTimeout);
  if (!connection) return connection.error();
  return std::unique_ptr<Catalog>(new Catalog(std::move(connection).value()));
}

Status Catalog::upsert(const CatalogRecord& record) { return upsert_all({record}); }

Status Catalog::upsert_all(const std::vector<CatalogRecord>& records) {
  const std::lock_guard lock(mutex_);
  // IMMEDIATE: another process's upsert of the same study waits here instead of both inserting it.
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  for (const CatalogRecord& record : records) {
    if (Status added = upsert_in_transaction(record); !added) return added;
  }
  // One commit for the batch: in the rollback-journal mode the gateways' readers need, a commit costs several
  // fsyncs, which would otherwise be paid per image.
  return transaction->commit();
}

Status Catalog::upsert_in_transaction(const CatalogRecord& record) {
  auto patient_values = usable_values(record, table(Level::patient));
  if (!patient_values) return patient_values.error();
  auto study_values = usable_values(record, table(Level::study));
  if (!study_values) return study_values.error();
  auto series_values = usable_values(record, table(Level::series));
  if (!series_values) return series_values.error();
  auto image_values = usable_values(record, table(Level::image));
  if (!image_values) return image_values.error();
  if (Status ok = require(*study_values, "StudyInstanceUID", "study"); !ok) return ok;
  if (Status ok = require(*series_values, "SeriesInstanceUID", "series"); !ok) return ok;
  if (Status ok = require(*image_values, "SOPInstanceUID", "image"); !ok) return ok;

  auto patient_id = upsert_patient(connection_, *patient_values, *study_values);
  if (!patient_id) return patient_id.error();
  auto study_id = upsert_by_uid(connection_, table(Level::study), patient_id.value(), *study_values);
  if (!study_id) return study_id.error();
  auto series_id = upsert_by_uid(connection_, table(Level::series), study_id.value(), *series_values);
  if (!series_id) return series_id.error();
  auto image_id = upsert_by_uid(connection_, table(Level::image), series_id.value(), *image_values);
  if (!image_id) return image_id.error();
  return {};
}

Result<bool> Catalog::contains_image(const std::string& sop_instance_uid) {
  const std::lock_guard lock(mutex_);
  auto found = query_id(connection_, "SELECT id FROM image WHERE SOPInstanceUID = ? LIMIT 1", {sop_instance_uid});
  if (!found) return found.error();
  return found.value().has_value();
}

Result<std::optional<CatalogRecord>> Catalog::find_image(const std::string& sop_instance_uid) {
  const std::lock_guard lock(mutex_);
  // One read transaction, so that the four rows belong together even while another process writes.
  auto transaction = sqlite::Transaction::begin(connection_, sqlite::TransactionKind::deferred);
  if (!transaction) return transaction.error();

  CatalogRecord record;
  auto image = read_row(connection_, table(Level::image), "SOPInstanceUID", sop_instance_uid);
  if (!image) return image.error();
  if (!image.value()) return std::optional<CatalogRecord>{};
  record.image = std::move(image.value()->values);

  std::int64_t parent = image.value()->reference_id;
  for (const Level level : {Level::series, Level::study, Level::patient}) {
    auto row = read_row(connection_, table(level), "id", parent);
    if (!row) return row.error();
    if (!row.value()) break;  // a dangling link: return what there is
    part(record, level) = std::move(row.value()->values);
    parent = row.value()->reference_id;
  }
  if (Status done = transaction->commit(); !done) return done.error();
  return std::optional<CatalogRecord>{std::move(record)};
}

}  // namespace creni::catalog
