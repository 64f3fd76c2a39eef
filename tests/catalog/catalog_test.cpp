#include "creni/catalog/catalog.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/statement.hpp"
#include "harness.hpp"

namespace creni::catalog {
namespace {

// The gateways' schema, as their image.db files hold it in sqlite_master.
const std::vector<std::string> kGatewaySchema{
    "CREATE TABLE patient( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, PatientBirthDate TEXT , "
    "PatientSex TEXT , PatientName TEXT , PatientID TEXT , PatientBirthTime TEXT , RETIRED_OtherPatientIDs TEXT , "
    "OtherPatientNames TEXT , EthnicGroup TEXT , PatientComments TEXT , NumberOfPatientRelatedStudies TEXT , "
    "NumberOfPatientRelatedSeries TEXT , NumberOfPatientRelatedInstances TEXT ,  PlaceHoler TEXT )",
    "CREATE TABLE sqlite_sequence(name,seq)",
    "CREATE INDEX patientIndex ON patient(referenceId)",
    "CREATE TABLE study( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, SpecificCharacterSet TEXT , "
    "StudyDate TEXT , StudyTime TEXT , StudyID TEXT , AccessionNumber TEXT , ReferringPhysicianName TEXT , "
    "StudyDescription TEXT , NameOfPhysiciansReadingStudy TEXT , StudyInstanceUID TEXT UNIQUE, "
    "RETIRED_OtherStudyNumbers TEXT , AdmittingDiagnosesDescription TEXT , PatientAge TEXT , PatientSize TEXT , "
    "PatientWeight TEXT , Occupation TEXT , AdditionalPatientHistory TEXT , NumberOfStudyRelatedSeries TEXT , "
    "NumberOfStudyRelatedInstances TEXT , ModalitiesInStudy TEXT ,  PlaceHoler TEXT )",
    "",  // sqlite_autoindex_study_1
    "CREATE INDEX studyIndex ON study(referenceId)",
    "CREATE TABLE series( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, SeriesNumber TEXT , "
    "SeriesInstanceUID TEXT UNIQUE, Modality TEXT , SeriesDescription TEXT , SeriesDate TEXT , SeriesTime TEXT , "
    "BodyPartExamined TEXT , PatientPosition TEXT , ProtocolName TEXT , NumberOfSeriesRelatedInstances TEXT ,  "
    "PlaceHoler TEXT )",
    "",  // sqlite_autoindex_series_1
    "CREATE INDEX seriesIndex ON series(referenceId)",
    "CREATE TABLE image( id INTEGER PRIMARY KEY AUTOINCREMENT, referenceId INTEGER, InstanceNumber TEXT , "
    "SOPInstanceUID TEXT UNIQUE, SliceLocation TEXT , ImageType TEXT , NumberOfFrames TEXT , Rows TEXT , "
    "Columns TEXT , WindowWidth TEXT , WindowCenter TEXT , PhotometricInterpretation TEXT , RescaleSlope TEXT , "
    "RescaleIntercept TEXT , SamplesPerPixel TEXT , PixelSpacing TEXT , BitsAllocated TEXT , BitsStored TEXT , "
    "HighBit TEXT , PixelRepresentation TEXT , ImagePositionPatient TEXT , ImageOrientationPatient TEXT , "
    "SOPClassUID TEXT , PrivateCreator TEXT ,  PlaceHoler TEXT )",
    "",  // sqlite_autoindex_image_1
    "CREATE INDEX imageIndex ON image(referenceId)",
};

constexpr const char* kSampleStudy = "1.2.276.0.7230010.3.1.2.330040832.1.1707350883.230569";
constexpr const char* kSampleSeries = "1.2.276.0.7230010.3.1.3.330040832.1.1707350883.230570";
constexpr const char* kSampleImage = "1.2.276.0.7230010.3.1.4.330040832.1.1707350883.230571";

using Values = std::vector<std::pair<std::string, std::string>>;

std::string value_of(const Values& values, const std::string& column) {
  for (const auto& [name, value] : values) {
    if (name == column) return value;
  }
  return "<absent>";
}

CatalogRecord make_record(const std::string& patient_id, const std::string& study, const std::string& series,
                          const std::string& sop) {
  CatalogRecord record;
  record.patient = {{"PatientName", "DOE^JANE"}, {"PatientID", patient_id}, {"PatientSex", "F"}};
  record.study = {{"StudyInstanceUID", study}, {"StudyDate", "20240131"}, {"StudyDescription", "CT CHEST"}};
  record.series = {{"SeriesInstanceUID", series}, {"Modality", "CT"}, {"SeriesNumber", "3"}};
  record.image = {{"SOPInstanceUID", sop},
                  {"InstanceNumber", "1"},
                  {"ImageType", "DERIVED\\SECONDARY"},
                  {"PixelSpacing", "0.5\\0.5"},
                  {"PrivateCreator", "/data/out/" + sop}};
  return record;
}

class Catalog : public ::testing::Test {
 protected:
  std::unique_ptr<catalog::Catalog> open_writer(const std::filesystem::path& file) {
    auto opened = catalog::Catalog::open_for_writing(file);
    EXPECT_TRUE(opened.ok()) << (opened.ok() ? "" : opened.error().describe());
    return opened.ok() ? std::move(opened).value() : nullptr;
  }

  static sqlite::Connection raw(const std::filesystem::path& file) {
    auto connection = sqlite::Connection::open(file, sqlite::OpenMode::read_only);
    EXPECT_TRUE(connection.ok());
    return std::move(connection).value();
  }

  // Every row of a query, columns joined by '|', NULL shown as "NULL".
  static std::vector<std::string> rows(const std::filesystem::path& file, const std::string& sql) {
    sqlite::Connection connection = raw(file);
    auto statement = connection.prepare(sql);
    EXPECT_TRUE(statement.ok()) << sql;
    std::vector<std::string> result;
    while (statement->step().value()) {
      std::string line;
      for (int i = 0; i < statement->column_count(); ++i) {
        line += (i > 0 ? "|" : "") + (statement->column_is_null(i) ? std::string("NULL") : statement->column_text(i));
      }
      result.push_back(line);
    }
    return result;
  }

  static std::vector<std::string> schema_of(const std::filesystem::path& file) {
    return rows(file, "SELECT coalesce(sql, '') FROM sqlite_master ORDER BY rowid");
  }

  static std::vector<std::string> dump(const std::filesystem::path& file) {
    std::vector<std::string> all;
    for (const char* table : {"patient", "study", "series", "image"}) {
      for (std::string& row : rows(file, std::string("SELECT * FROM ") + table + " ORDER BY id")) {
        all.push_back(std::string(table) + ":" + row);
      }
    }
    return all;
  }

  // A file as a gateway writes it (the schema above, rows like ../shared/samples/seed's: three CT slices of one
  // series, a gateway-generated PatientID, NULLs where the gateway had no value), built here with plain SQL.
  std::filesystem::path gateway_written_file() {
    const auto target = dir_ / "image.db";
    auto connection = sqlite::Connection::open(target, sqlite::OpenMode::read_write_create);
    EXPECT_TRUE(connection.ok());
    for (const std::string& statement : kGatewaySchema) {
      // sqlite_sequence appears by itself with the first AUTOINCREMENT table.
      if (!statement.empty() && statement.find("sqlite_sequence") == std::string::npos) {
        EXPECT_TRUE(connection->exec(statement).ok()) << statement;
      }
    }
    std::string sql =
        "INSERT INTO patient (referenceId, PatientName, PatientID) VALUES (0, 'CRENI', "
        "'c8b62cec-73ea-4a5f-a0d6-ff80e7608bcb');"
        "INSERT INTO study (referenceId, SpecificCharacterSet, StudyDate, StudyDescription, StudyInstanceUID, "
        "PatientAge) VALUES (1, 'ISO_IR 192', '20220905', 'CT CHEST & ABDO/PELVIS C+', '" +
        std::string(kSampleStudy) + "', '30');"
        "INSERT INTO series (referenceId, SeriesNumber, SeriesInstanceUID, Modality) VALUES (1, '11', '" +
        std::string(kSampleSeries) + "', 'CT');";
    for (int slice = 0; slice < 3; ++slice) {
      const std::string sop = std::string(kSampleImage).substr(0, std::string(kSampleImage).size() - 1) +
                              std::to_string(1 + slice);
      sql += "INSERT INTO image (referenceId, InstanceNumber, SOPInstanceUID, ImageType, Rows, Columns, PixelSpacing, "
             "PrivateCreator) VALUES (1, '" + std::to_string(41 + slice) + "', '" + sop +
             "', 'DERIVED\\PRIMARY\\AXIAL\\CT_SOM5 MPR', '512', '660', '0.73828125\\0.7378788', "
             "'/gateway/retrieveFolder/ai/" + kSampleStudy + "/" + sop + "');";
    }
    EXPECT_TRUE(connection->exec(sql).ok());
    return target;
  }

  harness::TempDir dir_{"creni-catalog"};
  std::filesystem::path file_ = dir_ / "new" / "image.db";
  void SetUp() override { std::filesystem::create_directories(file_.parent_path()); }
};

TEST_F(Catalog, a_new_file_gets_the_gateway_schema_exactly) {
  ASSERT_NE(open_writer(file_), nullptr);
  EXPECT_EQ(schema_of(file_), kGatewaySchema);
  EXPECT_EQ(rows(file_, "PRAGMA journal_mode"), std::vector<std::string>{"delete"});
}

TEST_F(Catalog, opening_an_existing_file_for_writing_changes_nothing) {
  const auto sample = gateway_written_file();
  const auto before = dump(sample);
  const auto schema_before = schema_of(sample);
  ASSERT_NE(open_writer(sample), nullptr);
  EXPECT_EQ(dump(sample), before);
  EXPECT_EQ(schema_of(sample), schema_before);
}

TEST_F(Catalog, reads_a_file_a_gateway_wrote) {
  const auto sample = gateway_written_file();
  auto opened = catalog::Catalog::open_read_only(sample);
  ASSERT_TRUE(opened.ok()) << opened.error().describe();
  EXPECT_TRUE(opened.value()->contains_image(kSampleImage).value());
  EXPECT_FALSE(opened.value()->contains_image("1.2.3").value());

  auto found = opened.value()->find_image(kSampleImage);
  ASSERT_TRUE(found.ok()) << found.error().describe();
  ASSERT_TRUE(found->has_value());
  const CatalogRecord& record = **found;
  EXPECT_EQ(value_of(record.patient, "PatientName"), "CRENI");
  EXPECT_EQ(value_of(record.patient, "PatientSex"), "<absent>");  // NULL in the sample
  EXPECT_EQ(value_of(record.study, "StudyInstanceUID"), kSampleStudy);
  EXPECT_EQ(value_of(record.study, "SpecificCharacterSet"), "ISO_IR 192");
  EXPECT_EQ(value_of(record.study, "PatientAge"), "30");
  EXPECT_EQ(value_of(record.series, "SeriesInstanceUID"), kSampleSeries);
  EXPECT_EQ(value_of(record.series, "Modality"), "CT");
  EXPECT_EQ(value_of(record.image, "SOPInstanceUID"), kSampleImage);
  EXPECT_EQ(value_of(record.image, "ImageType"), "DERIVED\\PRIMARY\\AXIAL\\CT_SOM5 MPR");
  EXPECT_EQ(value_of(record.image, "PixelSpacing"), "0.73828125\\0.7378788");
  EXPECT_EQ(value_of(record.image, "Rows"), "512");
  const std::string path = value_of(record.image, "PrivateCreator");
  EXPECT_EQ(path.substr(path.size() - std::string(kSampleImage).size()), kSampleImage);
}

TEST_F(Catalog, an_image_added_to_a_gateway_file_joins_its_existing_series) {
  const auto sample = gateway_written_file();
  auto writer = open_writer(sample);
  ASSERT_NE(writer, nullptr);
  CatalogRecord record;
  record.patient = {{"PatientName", "CRENI"}};  // no PatientID, as in the sample's files
  record.study = {{"StudyInstanceUID", kSampleStudy}};
  record.series = {{"SeriesInstanceUID", kSampleSeries}};
  record.image = {{"SOPInstanceUID", "1.2.276.0.7230010.3.1.4.330040832.1.1707350883.999999"}, {"InstanceNumber", "99"}};
  ASSERT_TRUE(writer->upsert(record).ok());

  EXPECT_EQ(rows(sample, "SELECT count(*) FROM patient"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(sample, "SELECT count(*) FROM study"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(sample, "SELECT count(*) FROM series"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(sample, "SELECT id, referenceId FROM image WHERE InstanceNumber = '99'"),
            std::vector<std::string>{"4|1"});
  // The gateway's own values stay: its generated PatientID is not erased by a record without one.
  EXPECT_EQ(rows(sample, "SELECT PatientID FROM patient"),
            std::vector<std::string>{"c8b62cec-73ea-4a5f-a0d6-ff80e7608bcb"});
}

TEST_F(Catalog, upserting_twice_is_idempotent) {
  auto writer = open_writer(file_);
  ASSERT_NE(writer, nullptr);
  const CatalogRecord record = make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1");
  ASSERT_TRUE(writer->upsert(record).ok());
  const auto once = dump(file_);
  ASSERT_TRUE(writer->upsert(record).ok());
  EXPECT_EQ(dump(file_), once);
  EXPECT_EQ(once.size(), 4U);
}

TEST_F(Catalog, every_row_links_to_its_parent) {
  auto writer = open_writer(file_);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->upsert(make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1")).ok());
  ASSERT_TRUE(writer->upsert(make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.2")).ok());  // same series
  ASSERT_TRUE(writer->upsert(make_record("P1", "1.2.1", "1.2.1.2", "1.2.1.2.1")).ok());  // same study
  ASSERT_TRUE(writer->upsert(make_record("P1", "1.2.2", "1.2.2.1", "1.2.2.1.1")).ok());  // same patient
  ASSERT_TRUE(writer->upsert(make_record("P2", "1.2.3", "1.2.3.1", "1.2.3.1.1")).ok());  // another patient

  EXPECT_EQ(rows(file_, "SELECT id, referenceId, PatientID FROM patient ORDER BY id"),
            (std::vector<std::string>{"1|0|P1", "2|0|P2"}));
  EXPECT_EQ(rows(file_, "SELECT id, referenceId, StudyInstanceUID FROM study ORDER BY id"),
            (std::vector<std::string>{"1|1|1.2.1", "2|1|1.2.2", "3|2|1.2.3"}));
  EXPECT_EQ(rows(file_, "SELECT id, referenceId, SeriesInstanceUID FROM series ORDER BY id"),
            (std::vector<std::string>{"1|1|1.2.1.1", "2|1|1.2.1.2", "3|2|1.2.2.1", "4|3|1.2.3.1"}));
  EXPECT_EQ(rows(file_, "SELECT id, referenceId, SOPInstanceUID FROM image ORDER BY id"),
            (std::vector<std::string>{"1|1|1.2.1.1.1", "2|1|1.2.1.1.2", "3|2|1.2.1.2.1", "4|3|1.2.2.1.1",
                                      "5|4|1.2.3.1.1"}));

  auto found = writer->find_image("1.2.3.1.1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(value_of((*found)->patient, "PatientID"), "P2");
  EXPECT_EQ(value_of((*found)->study, "StudyInstanceUID"), "1.2.3");
  EXPECT_EQ(value_of((*found)->series, "SeriesInstanceUID"), "1.2.3.1");
}

TEST_F(Catalog, patients_without_an_id_are_never_merged_by_name) {
  auto writer = open_writer(file_);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->upsert(make_record("", "1.2.1", "1.2.1.1", "1.2.1.1.1")).ok());
  ASSERT_TRUE(writer->upsert(make_record("", "1.2.1", "1.2.1.1", "1.2.1.1.2")).ok());
  ASSERT_TRUE(writer->upsert(make_record("", "1.2.2", "1.2.2.1", "1.2.2.1.1")).ok());
  EXPECT_EQ(rows(file_, "SELECT id, PatientID, PatientName FROM patient ORDER BY id"),
            (std::vector<std::string>{"1|NULL|DOE^JANE", "2|NULL|DOE^JANE"}));
  EXPECT_EQ(rows(file_, "SELECT referenceId FROM study ORDER BY id"), (std::vector<std::string>{"1", "2"}));
}

TEST_F(Catalog, an_update_changes_given_values_and_keeps_the_others) {
  auto writer = open_writer(file_);
  ASSERT_NE(writer, nullptr);
  ASSERT_TRUE(writer->upsert(make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1")).ok());
  CatalogRecord update;
  update.study = {{"StudyInstanceUID", "1.2.1"}, {"StudyDescription", "CT CHEST AI"}};
  update.series = {{"SeriesInstanceUID", "1.2.1.1"}};
  update.image = {{"SOPInstanceUID", "1.2.1.1.1"}, {"InstanceNumber", "7"}, {"ImageType", ""}};
  ASSERT_TRUE(writer->upsert(update).ok());

  auto found = writer->find_image("1.2.1.1.1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ(value_of((*found)->study, "StudyDescription"), "CT CHEST AI");
  EXPECT_EQ(value_of((*found)->study, "StudyDate"), "20240131");
  EXPECT_EQ(value_of((*found)->image, "InstanceNumber"), "7");
  EXPECT_EQ(value_of((*found)->image, "ImageType"), "DERIVED\\SECONDARY");
  EXPECT_EQ(value_of((*found)->image, "PrivateCreator"), "/data/out/1.2.1.1.1");
  EXPECT_EQ(value_of((*found)->patient, "PatientID"), "P1");
  EXPECT_EQ(rows(file_, "SELECT count(*) FROM patient"), std::vector<std::string>{"1"});
}

TEST_F(Catalog, upsert_refuses_unknown_columns_and_missing_uids) {
  auto writer = open_writer(file_);
  ASSERT_NE(writer, nullptr);
  CatalogRecord unknown_column = make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1");
  unknown_column.series.emplace_back("Modality\" = 'x'; --", "x");
  const Status refused = writer->upsert(unknown_column);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "invalid_record");

  CatalogRecord reference_column = make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1");
  reference_column.image.emplace_back("referenceId", "5");
  EXPECT_EQ(writer->upsert(reference_column).error().code, "invalid_record");

  CatalogRecord no_sop = make_record("P1", "1.2.1", "1.2.1.1", "");
  EXPECT_EQ(writer->upsert(no_sop).error().code, "invalid_record");
  EXPECT_TRUE(dump(file_).empty());
}

TEST_F(Catalog, read_only_opening_never_creates_a_file_and_never_writes) {
  auto missing = catalog::Catalog::open_read_only(file_);
  ASSERT_FALSE(missing.ok());
  EXPECT_FALSE(std::filesystem::exists(file_));

  ASSERT_NE(open_writer(file_), nullptr);
  auto reader = catalog::Catalog::open_read_only(file_);
  ASSERT_TRUE(reader.ok());
  const Status written = reader.value()->upsert(make_record("P1", "1.2.1", "1.2.1.1", "1.2.1.1.1"));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, "sqlite_error");
  auto found = reader.value()->find_image("1.2.1.1.1");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

TEST_F(Catalog, two_writers_on_one_file_from_two_threads_keep_it_consistent) {
  ASSERT_NE(open_writer(file_), nullptr);
  constexpr int kPerWriter = 30;
  std::vector<Status> failures[2];
  auto write = [this](int writer_index, std::vector<Status>& failed) {
    auto writer = catalog::Catalog::open_for_writing(file_);
    if (!writer) {
      failed.push_back(writer.error());
      return;
    }
    for (int i = 0; i < kPerWriter; ++i) {
      // Both writers add slices of the same series; one also adds its own series.
      const std::string sop = "1.2.1.1." + std::to_string(writer_index) + "." + std::to_string(i);
      const std::string series = (writer_index == 1 && i % 2 == 0) ? "1.2.1.2" : "1.2.1.1";
      if (Status status = writer.value()->upsert(make_record("P1", "1.2.1", series, sop)); !status) {
        failed.push_back(status);
      }
    }
  };
  std::thread first(write, 0, std::ref(failures[0]));
  std::thread second(write, 1, std::ref(failures[1]));
  first.join();
  second.join();
  for (const auto& failed : failures) {
    for (const Status& status : failed) ADD_FAILURE() << status.error().describe();
  }
  EXPECT_EQ(rows(file_, "SELECT count(*) FROM patient"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(file_, "SELECT count(*) FROM study"), std::vector<std::string>{"1"});
  EXPECT_EQ(rows(file_, "SELECT count(*) FROM series WHERE referenceId = 1"), std::vector<std::string>{"2"});
  EXPECT_EQ(rows(file_, "SELECT count(*) FROM image i JOIN series s ON s.id = i.referenceId"),
            std::vector<std::string>{std::to_string(2 * kPerWriter)});
}

class CatalogFromDataset : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(runtime_.check().ok()) << runtime_.check().error().describe(); }
  dicom::DcmtkRuntime runtime_;
};

TEST_F(CatalogFromDataset, reads_numbers_and_multiple_values_as_dicom_text) {
  DcmDataset dataset;
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientName, "DOE^JOHN").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientID, "ID-1").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientSex, "").good());  // empty: left out
  ASSERT_TRUE(dataset.putAndInsertString(DCM_StudyInstanceUID, "1.2.3").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientAge, "030Y").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_Modality, "CT").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PixelSpacing, "0.5\\0.25").good());
  ASSERT_TRUE(dataset.putAndInsertUint16(DCM_Rows, 512).good());
  ASSERT_TRUE(dataset.putAndInsertUint16(DCM_PixelRepresentation, 0).good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_WindowCenter, "40\\400").good());
  // A SOP Instance UID inside a sequence belongs to another image and must not be taken.
  DcmItem* item = nullptr;
  ASSERT_TRUE(dataset.findOrCreateSequenceItem(DCM_ReferencedImageSequence, item, -2).good());
  ASSERT_TRUE(item->putAndInsertString(DCM_SliceLocation, "12.5").good());

  const CatalogRecord record = record_from_dataset(dataset);
  EXPECT_EQ(record.patient, (Values{{"PatientName", "DOE^JOHN"}, {"PatientID", "ID-1"}}));
  EXPECT_EQ(record.study, (Values{{"StudyInstanceUID", "1.2.3"}, {"PatientAge", "030Y"}}));
  EXPECT_EQ(record.series, (Values{{"SeriesInstanceUID", "1.2.3.4"}, {"Modality", "CT"}}));
  EXPECT_EQ(record.image, (Values{{"SOPInstanceUID", "1.2.3.4.5"},
                                  {"ImageType", "ORIGINAL\\PRIMARY\\AXIAL"},
                                  {"Rows", "512"},
                                  {"WindowCenter", "40\\400"},
                                  {"PixelSpacing", "0.5\\0.25"},
                                  {"PixelRepresentation", "0"}}));
}

TEST_F(CatalogFromDataset, reads_every_column_named_after_a_dicom_keyword) {
  // Puts a distinct value into every attribute whose keyword names a column (found through DCMTK's
  // dictionary, independently of the catalog's own table) and expects each back under its column.
  const std::vector<std::string> columns[4] = {
      {"PatientBirthDate", "PatientSex", "PatientName", "PatientID", "PatientBirthTime", "RETIRED_OtherPatientIDs",
       "OtherPatientNames", "EthnicGroup", "PatientComments", "NumberOfPatientRelatedStudies",
       "NumberOfPatientRelatedSeries", "NumberOfPatientRelatedInstances"},
      {"SpecificCharacterSet", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName",
       "StudyDescription", "NameOfPhysiciansReadingStudy", "StudyInstanceUID", "RETIRED_OtherStudyNumbers",
       "AdmittingDiagnosesDescription", "PatientAge", "PatientSize", "PatientWeight", "Occupation",
       "AdditionalPatientHistory", "NumberOfStudyRelatedSeries", "NumberOfStudyRelatedInstances",
       "ModalitiesInStudy"},
      {"SeriesNumber", "SeriesInstanceUID", "Modality", "SeriesDescription", "SeriesDate", "SeriesTime",
       "BodyPartExamined", "PatientPosition", "ProtocolName", "NumberOfSeriesRelatedInstances"},
      {"InstanceNumber", "SOPInstanceUID", "SliceLocation", "ImageType", "NumberOfFrames", "Rows", "Columns",
       "WindowWidth", "WindowCenter", "PhotometricInterpretation", "RescaleSlope", "RescaleIntercept",
       "SamplesPerPixel", "PixelSpacing", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
       "ImagePositionPatient", "ImageOrientationPatient", "SOPClassUID"}};

  DcmDataset dataset;
  Values expected[4];
  int counter = 100;
  for (int level = 0; level < 4; ++level) {
    for (const std::string& column : columns[level]) {
      DcmTag tag;
      ASSERT_TRUE(DcmTag::findTagFromName(column.c_str(), tag).good()) << column << " is not a DICOM keyword";
      const std::string value = std::to_string(++counter);
      ASSERT_TRUE(dataset.putAndInsertString(tag, value.c_str()).good()) << column;
      expected[level].emplace_back(column, value);
    }
  }
  const CatalogRecord record = record_from_dataset(dataset);
  EXPECT_EQ(record.patient, expected[0]);
  EXPECT_EQ(record.study, expected[1]);
  EXPECT_EQ(record.series, expected[2]);
  EXPECT_EQ(record.image, expected[3]);
}

TEST_F(CatalogFromDataset, a_record_read_from_a_dataset_round_trips_through_the_catalog) {
  DcmDataset dataset;
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientName, "DOE^JOHN").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_PatientID, "ID-1").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_StudyInstanceUID, "1.2.3").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SeriesInstanceUID, "1.2.3.4").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SOPInstanceUID, "1.2.3.4.5").good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0").good());
  CatalogRecord record = record_from_dataset(dataset);
  record.image.emplace_back("PrivateCreator", "/out/gateway_1/1.2.3/1.2.3.4.5");

  harness::TempDir dir("creni-catalog-dataset");
  auto writer = catalog::Catalog::open_for_writing(dir / "image.db");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer.value()->upsert(record).ok());
  auto found = writer.value()->find_image("1.2.3.4.5");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->patient, record.patient);
  EXPECT_EQ((*found)->study, record.study);
  EXPECT_EQ((*found)->series, record.series);
  EXPECT_EQ((*found)->image, (Values{{"SOPInstanceUID", "1.2.3.4.5"},
                                     {"ImageOrientationPatient", "1\\0\\0\\0\\1\\0"},
                                     {"PrivateCreator", "/out/gateway_1/1.2.3/1.2.3.4.5"}}));
}

}  // namespace
}  // namespace creni::catalog
