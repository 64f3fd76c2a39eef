// The gateways' image.db tables, statement for statement, and where a record's values for each level live.

#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>

#include "catalog_tables.hpp"

namespace creni::catalog::detail {

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

}  // namespace creni::catalog::detail
