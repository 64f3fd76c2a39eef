#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/process/provenance.hpp"

namespace creni::process {

/// What a series-level step found in a series.
struct SeriesFinding {
  std::string label;                   ///< 1-64 printable ASCII characters
  double score = 0.0;                  ///< 0..1
  std::vector<std::string> instances;  ///< SOP Instance UIDs of the report's instances it was found on (may be empty)
  std::vector<double> point;           ///< empty, or column and row (image coordinates) on the first of `instances`
};

/// An instance the report refers to (every instance the series steps used).
struct ReportedInstance {
  std::string sop_class_uid;
  std::string sop_instance_uid;
};

/// Everything a series report says. Plain values: the caller decides identities and what is referenced.
struct SeriesReportContent {
  /// Patient and General Study module values by DICOM keyword (PatientName, PatientID, PatientBirthDate,
  /// PatientSex, StudyDate, StudyTime, StudyID, AccessionNumber, ReferringPhysicianName, StudyDescription);
  /// others are ignored.
  std::vector<std::pair<std::string, std::string>> header;
  std::string study_instance_uid;       ///< the report's study (the referenced instances' study)
  std::string series_instance_uid;      ///< the report's own series
  std::string sop_instance_uid;         ///< the report's own SOP Instance UID
  std::string referenced_series_instance_uid;  ///< the series of `instances`
  std::string series_description;       ///< at most 64 characters
  int series_number = 0;
  int instance_number = 1;
  std::vector<AlgorithmIdentity> algorithms;  ///< every series step that ran, in order (may be empty)
  std::vector<SeriesFinding> findings;
  std::vector<ReportedInstance> instances;
};

/// Writes `content` as one Comprehensive SR (PS3.3 A.35.3) to `final_path`, atomically (Instance::save).
/// The content tree follows a simple template of its own under the root "Diagnostic imaging report"
/// (LOINC 18748-4):
///   CONTAINS TEXT Algorithm Name / Algorithm Version / Algorithm Parameters (DCM 111001/111003/111002),
///            once per algorithm (once, naming the node, when none ran); the parameters name the step, the model's
///            SHA-256 when there is one, and the algorithm's details (the stack order it used);
///   CONTAINS TEXT Comment (DCM 121106): the findings in one line;
///   CONTAINS TEXT Finding (DCM 121071) = label per finding, which HAS PROPERTIES NUM "Score" (99CRENI, unit
///            UCUM "1") and is INFERRED FROM the IMAGEs it names and, with a point, a SCOORD POINT SELECTED FROM
///            its image;
///   CONTAINS IMAGE Source of Measurement (DCM 121112) for every instance used.
/// Every instance is also listed in CurrentRequestedProcedureEvidenceSequence. The document is COMPLETE and
/// UNVERIFIED (an algorithm's output, not a physician's). Errors: "invalid_report" (an invalid UID, label or
/// score, a finding naming an instance that is not in `instances`), "internal_error" (DCMTK refused a value),
/// and those of Instance::save ("io_error", "encode_failed").
[[nodiscard]] Status write_series_report(const SeriesReportContent& content, const std::filesystem::path& final_path);

}  // namespace creni::process
