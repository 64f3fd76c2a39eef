#include "creni/process/series_report.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmsr/dsrdoc.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "creni/common/uid.hpp"
#include "creni/dicom/instance.hpp"

namespace creni::process {

namespace {

// Codes of this template that no standard coding scheme has: the private scheme of creni-node (PS3.16 section 8).
const DSRCodedEntryValue kScore("S001", "99CRENI", "Score");
const DSRCodedEntryValue kRoot("18748-4", "LN", "Diagnostic imaging report");
const DSRCodedEntryValue kAlgorithmName("111001", "DCM", "Algorithm Name");
const DSRCodedEntryValue kAlgorithmVersion("111003", "DCM", "Algorithm Version");
const DSRCodedEntryValue kAlgorithmParameters("111002", "DCM", "Algorithm Parameters");
const DSRCodedEntryValue kComment("121106", "DCM", "Comment");
const DSRCodedEntryValue kFinding("121071", "DCM", "Finding");
const DSRCodedEntryValue kSource("121112", "DCM", "Source of Measurement");
const DSRCodedEntryValue kNoUnits("1", "UCUM", "no units");
const DSRCodedEntryValue kImageRegion("111030", "DCM", "Image Region");

Status checked(const OFCondition& status, const std::string& what) {
  if (status.bad()) return make_error("internal_error", "SR: cannot set " + what + ": " + status.text());
  return {};
}

Status added(std::size_t node, const std::string& what) {
  if (node == 0) return make_error("internal_error", "SR: cannot add " + what);
  return {};
}

std::string clipped(std::string text, std::size_t limit) {
  if (text.size() > limit) text.resize(limit);
  return text;
}

bool is_label(const std::string& label) {
  return !label.empty() && label.size() <= 64 &&
         std::all_of(label.begin(), label.end(), [](char c) { return c >= 0x20 && c <= 0x7e && c != '\\'; });
}

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", value);
  return text;
}

Status validate(const SeriesReportContent& content) {
  for (const std::string* value : {&content.study_instance_uid, &content.series_instance_uid, &content.sop_instance_uid,
                                   &content.referenced_series_instance_uid}) {
    if (!uid::is_valid(*value)) return make_error("invalid_report", "not a valid UID: '" + *value + "'");
  }
  std::set<std::string> known;
  for (const auto& instance : content.instances) {
    if (!uid::is_valid(instance.sop_class_uid) || !uid::is_valid(instance.sop_instance_uid)) {
      return make_error("invalid_report", "instance with an invalid UID: '" + instance.sop_instance_uid + "'");
    }
    known.insert(instance.sop_instance_uid);
  }
  for (const auto& finding : content.findings) {
    if (!is_label(finding.label)) return make_error("invalid_report", "finding label must be 1-64 printable characters");
    if (!(finding.score >= 0.0 && finding.score <= 1.0)) return make_error("invalid_report", "finding score must be 0..1");
    for (const auto& sop : finding.instances) {
      if (known.count(sop) == 0) return make_error("invalid_report", "finding '" + finding.label + "' names an unknown instance " + sop);
    }
    if (!finding.point.empty() && (finding.point.size() != 2 || finding.instances.empty() ||
                                   !std::isfinite(finding.point[0]) || !std::isfinite(finding.point[1]))) {
      return make_error("invalid_report", "finding '" + finding.label + "': a point is [column, row] on a named instance");
    }
  }
  return {};
}

// The header values a Comprehensive SR carries in its Patient and General Study modules.
Status apply_header(DSRDocument& document, const SeriesReportContent& content) {
  using Setter = OFCondition (DSRDocument::*)(const OFString&, const OFBool);
  const std::map<std::string, Setter> setters{
      {"PatientName", &DSRDocument::setPatientName},     {"PatientID", &DSRDocument::setPatientID},
      {"PatientBirthDate", &DSRDocument::setPatientBirthDate}, {"PatientSex", &DSRDocument::setPatientSex},
      {"StudyDate", &DSRDocument::setStudyDate},         {"StudyTime", &DSRDocument::setStudyTime},
      {"StudyID", &DSRDocument::setStudyID},             {"AccessionNumber", &DSRDocument::setAccessionNumber},
      {"ReferringPhysicianName", &DSRDocument::setReferringPhysicianName},
      {"StudyDescription", &DSRDocument::setStudyDescription}};
  for (const auto& [keyword, value] : content.header) {
    const auto setter = setters.find(keyword);
    if (setter == setters.end() || value.empty()) continue;
    // A value the sender got wrong is left out rather than failing the whole report (check = false keeps DCMTK
    // from refusing, e.g., an odd date; the attribute is type 2 and may be empty).
    (void)(document.*(setter->second))(value.c_str(), OFFalse);
  }
  if (Status s = checked(document.setManufacturer("creni-node"), "Manufacturer"); !s) return s;
  if (Status s = checked(document.setSoftwareVersions(CRENI_VERSION), "SoftwareVersions"); !s) return s;
  if (Status s = checked(document.setSeriesDescription(clipped(content.series_description, 64).c_str()), "SeriesDescription"); !s) return s;
  if (Status s = checked(document.setSeriesNumber(std::to_string(content.series_number).c_str()), "SeriesNumber"); !s) return s;
  return checked(document.setInstanceNumber(std::to_string(content.instance_number).c_str()), "InstanceNumber");
}

Status add_text(DSRDocumentTree& tree, DSRTypes::E_AddMode mode, const DSRCodedEntryValue& concept,
                const std::string& text) {
  if (Status s = added(tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Text, mode), "TEXT"); !s) return s;
  if (Status s = checked(tree.getCurrentContentItem().setConceptName(concept), "concept name"); !s) return s;
  return checked(tree.getCurrentContentItem().setStringValue(clipped(text, 1024).c_str(), OFFalse), "TEXT value");
}

Status add_image(DSRDocumentTree& tree, DSRTypes::E_RelationshipType relation, DSRTypes::E_AddMode mode,
                 const ReportedInstance& instance) {
  if (Status s = added(tree.addContentItem(relation, DSRTypes::VT_Image, mode), "IMAGE"); !s) return s;
  return checked(tree.getCurrentContentItem().setImageReference(
                     DSRImageReferenceValue(instance.sop_class_uid.c_str(), instance.sop_instance_uid.c_str())),
                 "IMAGE reference");
}

// One finding below the current (last added) item of the root's children: TEXT, then its properties.
Status add_finding(DSRDocumentTree& tree, const SeriesFinding& finding,
                   const std::map<std::string, const ReportedInstance*>& by_uid) {
  if (Status s = add_text(tree, DSRTypes::AM_afterCurrent, kFinding, finding.label); !s) return s;
  if (Status s = added(tree.addContentItem(DSRTypes::RT_hasProperties, DSRTypes::VT_Num, DSRTypes::AM_belowCurrent), "NUM"); !s) return s;
  if (Status s = checked(tree.getCurrentContentItem().setConceptName(kScore), "score concept"); !s) return s;
  if (Status s = checked(tree.getCurrentContentItem().setNumericValue(
                             DSRNumericMeasurementValue(number_text(finding.score).c_str(), kNoUnits)), "score");
      !s) {
    return s;
  }
  for (const auto& sop : finding.instances) {
    if (Status s = add_image(tree, DSRTypes::RT_inferredFrom, DSRTypes::AM_afterCurrent, *by_uid.at(sop)); !s) return s;
  }
  if (!finding.point.empty()) {
    if (Status s = added(tree.addContentItem(DSRTypes::RT_inferredFrom, DSRTypes::VT_SCoord, DSRTypes::AM_afterCurrent), "SCOORD"); !s) return s;
    if (Status s = checked(tree.getCurrentContentItem().setConceptName(kImageRegion), "SCOORD concept"); !s) return s;
    DSRSpatialCoordinatesValue point(DSRTypes::GT_Point);
    point.getGraphicDataList().addItem(static_cast<float>(finding.point[0]), static_cast<float>(finding.point[1]));
    if (Status s = checked(tree.getCurrentContentItem().setSpatialCoordinates(point), "SCOORD"); !s) return s;
    if (Status s = add_image(tree, DSRTypes::RT_selectedFrom, DSRTypes::AM_belowCurrent, *by_uid.at(finding.instances.front())); !s) return s;
    tree.goUp();
  }
  tree.goUp();  // back to the finding's TEXT, a child of the root
  return {};
}

Status build_tree(DSRDocument& document, const SeriesReportContent& content) {
  DSRDocumentTree& tree = document.getTree();
  if (Status s = added(tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container), "root"); !s) return s;
  if (Status s = checked(tree.getCurrentContentItem().setConceptName(kRoot), "root concept"); !s) return s;
  DSRTypes::E_AddMode mode = DSRTypes::AM_belowCurrent;
  const auto next_text = [&](const DSRCodedEntryValue& concept, const std::string& text) {
    Status s = add_text(tree, mode, concept, text);
    mode = DSRTypes::AM_afterCurrent;
    return s;
  };
  const std::vector<AlgorithmIdentity> algorithms =
      content.algorithms.empty() ? std::vector<AlgorithmIdentity>{AlgorithmIdentity{}} : content.algorithms;
  for (const AlgorithmIdentity& algorithm : algorithms) {
    if (Status s = next_text(kAlgorithmName, algorithm.name.empty() ? "creni-node series report" : algorithm.name); !s) return s;
    if (Status s = next_text(kAlgorithmVersion, algorithm.version.empty() ? "unversioned" : algorithm.version); !s) return s;
    std::string parameters = "step " + (algorithm.step.empty() ? std::string("none") : algorithm.step);
    if (!algorithm.model_sha256.empty()) parameters += "; model sha256 " + algorithm.model_sha256;
    if (!algorithm.details.empty()) parameters += "; " + algorithm.details;
    if (Status s = next_text(kAlgorithmParameters, parameters); !s) return s;
  }
  std::vector<Finding> flat;
  for (const auto& finding : content.findings) flat.push_back(Finding{finding.label, finding.score});
  if (Status s = next_text(kComment, std::to_string(content.instances.size()) + " instance(s): " + findings_text(flat)); !s) return s;

  std::map<std::string, const ReportedInstance*> by_uid;
  for (const auto& instance : content.instances) by_uid[instance.sop_instance_uid] = &instance;
  for (const auto& finding : content.findings) {
    if (Status s = add_finding(tree, finding, by_uid); !s) return s;
  }
  for (const auto& instance : content.instances) {
    if (Status s = add_image(tree, DSRTypes::RT_contains, DSRTypes::AM_afterCurrent, instance); !s) return s;
    if (Status s = checked(tree.getCurrentContentItem().setConceptName(kSource), "IMAGE concept"); !s) return s;
    if (Status s = checked(document.getCurrentRequestedProcedureEvidence().addItem(
                               content.study_instance_uid.c_str(), content.referenced_series_instance_uid.c_str(),
                               instance.sop_class_uid.c_str(), instance.sop_instance_uid.c_str()),
                           "evidence");
        !s) {
      return s;
    }
  }
  return {};
}

}  // namespace

Status write_series_report(const SeriesReportContent& content, const std::filesystem::path& final_path) {
  if (Status valid = validate(content); !valid) return valid;
  DSRDocument document(DSRTypes::DT_ComprehensiveSR);
  if (Status s = apply_header(document, content); !s) return s;
  if (Status s = build_tree(document, content); !s) return s;
  if (Status s = checked(document.completeDocument(), "CompletionFlag"); !s) return s;

  auto file = std::make_unique<DcmFileFormat>();
  DcmDataset& dataset = *file->getDataset();
  if (Status s = checked(document.write(dataset), "the document"); !s) return s;
  // The identities are the caller's (deterministic, so a report written again is the same instance).
  if (Status s = checked(dataset.putAndInsertString(DCM_StudyInstanceUID, content.study_instance_uid.c_str()), "StudyInstanceUID"); !s) return s;
  if (Status s = checked(dataset.putAndInsertString(DCM_SeriesInstanceUID, content.series_instance_uid.c_str()), "SeriesInstanceUID"); !s) return s;
  if (Status s = checked(dataset.putAndInsertString(DCM_SOPInstanceUID, content.sop_instance_uid.c_str()), "SOPInstanceUID"); !s) return s;
  auto instance = dicom::Instance::adopt(std::move(file));
  if (!instance) return instance.error();
  return instance->save(final_path);
}

}  // namespace creni::process
