#include "creni/process/derivation.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <ctime>
#include <string>
#include <vector>

#include "creni/common/uid.hpp"
#include "creni/dicom/transfer_syntaxes.hpp"

namespace creni::process {

namespace {

class DatasetEditor {
 public:
  explicit DatasetEditor(DcmDataset& dataset) : dataset_(dataset) {}

  void put(const DcmTagKey& tag, const std::string& value, const char* keyword) {
    if (!status_.ok()) return;
    if (const OFCondition put = dataset_.putAndInsertString(tag, value.c_str()); put.bad()) {
      status_ = make_error("internal_error", std::string("cannot set ") + keyword + ": " + put.text());
    }
  }

  [[nodiscard]] Status status() const { return status_; }

 private:
  DcmDataset& dataset_;
  Status status_;
};

std::vector<std::string> split_values(const OFString& joined) {
  std::vector<std::string> values;
  std::string current;
  for (const char ch : joined) {
    if (ch == '\\') {
      values.push_back(current);
      current.clear();
    } else {
      current += ch;
    }
  }
  values.push_back(current);
  return values;
}

// ImageType (0008,0008): value 1 DERIVED, value 2 SECONDARY (PS3.3 section C.7.6.1.1.2); values 3..n describe the
// image and are kept.
std::string derived_image_type(DcmDataset& dataset) {
  OFString current;
  if (dataset.findAndGetOFStringArray(DCM_ImageType, current).bad() || current.empty()) return "DERIVED\\SECONDARY";
  std::vector<std::string> values = split_values(current);
  values.resize(std::max<std::size_t>(values.size(), 2));
  values[0] = "DERIVED";
  values[1] = "SECONDARY";
  std::string joined;
  for (std::size_t i = 0; i < values.size(); ++i) joined += (i == 0 ? "" : "\\") + values[i];
  return joined;
}

void now_as_dicom(std::string& date, std::string& time) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char date_text[16];
  char time_text[16];
  std::strftime(date_text, sizeof date_text, "%Y%m%d", &local);
  std::strftime(time_text, sizeof time_text, "%H%M%S", &local);
  date = date_text;
  time = time_text;
}

Status reference_source(DcmDataset& dataset, const dicom::InstanceIdentity& source) {
  // The source of a derived image is the original alone; any references the original carried describe its own
  // sources, not ours (PS3.3 section C.7.6.1, Source Image Sequence).
  (void)dataset.findAndDeleteElement(DCM_SourceImageSequence);
  DcmItem* item = nullptr;
  if (dataset.findOrCreateSequenceItem(DCM_SourceImageSequence, item, 0).bad() || item == nullptr) {
    return make_error("internal_error", "cannot create SourceImageSequence");
  }
  if (item->putAndInsertString(DCM_ReferencedSOPClassUID, source.sop_class_uid.c_str()).bad() ||
      item->putAndInsertString(DCM_ReferencedSOPInstanceUID, source.sop_instance_uid.c_str()).bad()) {
    return make_error("internal_error", "cannot fill SourceImageSequence");
  }
  return {};
}

}  // namespace

dicom::InstanceIdentity derived_identity(const dicom::InstanceIdentity& source, config::OutputStudy study) {
  dicom::InstanceIdentity result;
  result.sop_class_uid = source.sop_class_uid;
  result.sop_instance_uid = uid::derive(uid::Role::sop_instance, source.sop_instance_uid);
  result.study_instance_uid = study == config::OutputStudy::original
                                  ? source.study_instance_uid
                                  : uid::derive(uid::Role::study, source.study_instance_uid);
  result.series_instance_uid = uid::derive(uid::Role::series, source.series_instance_uid);
  result.transfer_syntax_uid = UID_LittleEndianExplicitTransferSyntax;
  return result;
}

Status mark_as_derived(DcmDataset& dataset, const dicom::InstanceIdentity& source, const dicom::InstanceIdentity& result,
                       const DerivationFacts& facts) {
  DatasetEditor edit(dataset);
  edit.put(DCM_StudyInstanceUID, result.study_instance_uid, "StudyInstanceUID");
  edit.put(DCM_SeriesInstanceUID, result.series_instance_uid, "SeriesInstanceUID");
  edit.put(DCM_SOPInstanceUID, result.sop_instance_uid, "SOPInstanceUID");

  const bool is_image = dataset.tagExists(DCM_PixelData) || dataset.tagExists(DCM_FloatPixelData) ||
                        dataset.tagExists(DCM_DoubleFloatPixelData) || dataset.tagExists(DCM_ImageType);
  if (is_image) edit.put(DCM_ImageType, derived_image_type(dataset), "ImageType");
  if (facts.burned_in) edit.put(DCM_BurnedInAnnotation, "YES", "BurnedInAnnotation");
  if (!facts.description.empty()) edit.put(DCM_DerivationDescription, std::string(facts.description), "DerivationDescription");

  std::string date;
  std::string time;
  now_as_dicom(date, time);
  edit.put(DCM_InstanceCreationDate, date, "InstanceCreationDate");
  edit.put(DCM_InstanceCreationTime, time, "InstanceCreationTime");

  // Once lossy, always lossy: the flag must survive decompression (PS3.3 section C.7.6.1.1.5).
  if (is_image && dicom::is_lossy_transfer_syntax(source.transfer_syntax_uid)) {
    edit.put(DCM_LossyImageCompression, "01", "LossyImageCompression");
    const std::string method = dicom::lossy_compression_method(source.transfer_syntax_uid);
    OFString methods;
    (void)dataset.findAndGetOFStringArray(DCM_LossyImageCompressionMethod, methods);
    if (!method.empty() && methods.find(method.c_str()) == OFString_npos) {
      edit.put(DCM_LossyImageCompressionMethod, methods.empty() ? method : std::string(methods.c_str()) + "\\" + method,
               "LossyImageCompressionMethod");
    }
  }
  if (Status s = edit.status(); !s) return s;
  if (Status s = reference_source(dataset, source); !s) return s;

  // Signatures over the original content no longer hold (PS3.15 section C): drop them rather than ship invalid ones.
  (void)dataset.findAndDeleteElement(DCM_DigitalSignaturesSequence);
  (void)dataset.findAndDeleteElement(DCM_MACParametersSequence);
  return {};
}

}  // namespace creni::process
