#include "creni/process/provenance.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>

#include <cstdio>
#include <ctime>

#include "creni/process/charset_text.hpp"

namespace creni::process {

namespace {

// Value lengths of the VRs written here (PS3.5 section 6.2).
constexpr std::size_t kMaxLT = 10240;
constexpr std::size_t kMaxST = 1024;
constexpr std::size_t kMaxLO = 64;

std::string clipped(std::string text, std::size_t limit) {
  if (text.size() > limit) text.resize(limit);
  return text;
}

std::string now_as_datetime() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &local);
  return text;
}

Status put(DcmItem& item, const DcmTagKey& tag, const std::string& value, const char* keyword) {
  if (const OFCondition status = item.putAndInsertString(tag, value.c_str()); status.bad()) {
    return make_error("internal_error", std::string("cannot set ") + keyword + ": " + status.text());
  }
  return {};
}

}  // namespace

std::string findings_text(const std::vector<Finding>& findings) {
  if (findings.empty()) return "no findings";
  std::string text;
  for (const Finding& finding : findings) {
    char score[16];
    std::snprintf(score, sizeof score, "%.2f", finding.score);
    text += (text.empty() ? "" : ", ") + finding.label + " " + score;
  }
  return text;
}

std::string derivation_note(const AlgorithmIdentity& algorithm) {
  std::string note = algorithm.step + " " + algorithm.name + " " + algorithm.version;
  if (!algorithm.model_sha256.empty()) note += " (model sha256 " + algorithm.model_sha256 + ")";
  return note;
}

Status record_provenance(DcmDataset& dataset, const AlgorithmIdentity& algorithm, const std::string& marker,
                         const std::vector<Finding>& findings) {
  const std::string found = findings_text(findings);

  // Items of the source (acquisition equipment, earlier processing) stay: this item adds ours after them.
  DcmItem* item = nullptr;
  if (dataset.findOrCreateSequenceItem(DCM_ContributingEquipmentSequence, item, -2).bad() || item == nullptr) {
    return make_error("internal_error", "cannot add a ContributingEquipmentSequence item");
  }
  std::string versions = clipped(algorithm.version, kMaxLO);
  if (!algorithm.model_sha256.empty()) versions += "\\" + algorithm.model_sha256;  // 64 hex digits fit LO
  std::string description = algorithm.step + " by creni-node " CRENI_VERSION ": " + found;
  if (!algorithm.model_sha256.empty()) description += "; model sha256 " + algorithm.model_sha256;
  if (Status s = put(*item, DCM_Manufacturer, "creni-node", "Manufacturer"); !s) return s;
  if (Status s = put(*item, DCM_ManufacturerModelName, clipped(algorithm.name, kMaxLO), "ManufacturerModelName"); !s) return s;
  if (Status s = put(*item, DCM_SoftwareVersions, versions, "SoftwareVersions"); !s) return s;
  if (Status s = put(*item, DCM_ContributionDateTime, now_as_datetime(), "ContributionDateTime"); !s) return s;
  if (Status s = put(*item, DCM_ContributionDescription, clipped(description, kMaxST), "ContributionDescription"); !s) return s;
  // PS3.16 CID 7005 Contributing Equipment Purposes of Reference.
  DcmItem* purpose = nullptr;
  if (item->findOrCreateSequenceItem(DCM_PurposeOfReferenceCodeSequence, purpose, 0).bad() || purpose == nullptr) {
    return make_error("internal_error", "cannot create PurposeOfReferenceCodeSequence");
  }
  if (Status s = put(*purpose, DCM_CodeValue, "109102", "CodeValue"); !s) return s;
  if (Status s = put(*purpose, DCM_CodingSchemeDesignator, "DCM", "CodingSchemeDesignator"); !s) return s;
  if (Status s = put(*purpose, DCM_CodeMeaning, "Processing Equipment", "CodeMeaning"); !s) return s;

  OFString existing;
  (void)dataset.findAndGetOFStringArray(DCM_ImageComments, existing);
  std::string comments(existing.c_str(), existing.length());
  while (!comments.empty() && (comments.back() == ' ' || comments.back() == '\n' || comments.back() == '\r')) comments.pop_back();
  // The earlier comments are in the data set's character set: cut by characters, never inside one, and back in the
  // initial code set before the line break (PS3.5 section 6.1.2.5.3).
  OFString specific_character_set;
  (void)dataset.findAndGetOFStringArray(DCM_SpecificCharacterSet, specific_character_set);
  const CharsetText charset = CharsetText::for_specific_character_set(
      std::string_view(specific_character_set.c_str(), specific_character_set.length()));
  const std::string line = charset.prefix(marker + " " + algorithm.name + " " + algorithm.version + ": " + found, kMaxLT);
  // Earlier comments give way when the value would exceed LT: this line is what the output must carry.
  const std::size_t line_length = charset.length_in_characters(line);
  const std::size_t room = kMaxLT > line_length + 2 ? kMaxLT - line_length - 2 : 0;
  comments = charset.prefix(comments, room);
  comments = comments.empty() ? line : comments + "\r\n" + line;
  return put(dataset, DCM_ImageComments, comments, "ImageComments");
}

}  // namespace creni::process
