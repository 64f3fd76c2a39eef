// Loading a result for sending, with the identifiers its association is chosen by.

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include "dcmtk_send_steps.hpp"

namespace creni::forward::detail {

std::string string_of(DcmItem* item, const DcmTagKey& tag) {
  OFString value;
  if (item == nullptr || item->findAndGetOFString(tag, value).bad()) return "";
  return value.c_str();
}

// Our own results are small, well-formed Part 10 files: loading them whole here is fine (the data set is sent
// from memory, so the file is parsed once). Returns the failure, nullopt when the file is ready.
std::optional<SendResult> load(const std::filesystem::path& path, FileToSend& out) {
  const OFCondition loaded = out.file.loadFile(path.c_str());
  if (loaded.bad()) return failed(SendPhase::prepare, "cannot read '" + path.string() + "': " + loaded.text());
  DcmDataset* dataset = out.dataset();
  if (dataset == nullptr || dataset->isEmpty()) return failed(SendPhase::prepare, "'" + path.string() + "' has no data set");
  out.sop_class_uid = string_of(dataset, DCM_SOPClassUID);
  out.sop_instance_uid = string_of(dataset, DCM_SOPInstanceUID);
  if (out.sop_class_uid.empty() || out.sop_instance_uid.empty()) {
    return failed(SendPhase::prepare, "'" + path.string() + "' has no SOP Class UID or SOP Instance UID");
  }
  out.study_instance_uid = string_of(dataset, DCM_StudyInstanceUID);
  out.transfer_syntax_uid = string_of(out.file.getMetaInfo(), DCM_TransferSyntaxUID);
  if (out.transfer_syntax_uid.empty()) out.transfer_syntax_uid = DcmXfer(dataset->getOriginalXfer()).getXferID();
  return std::nullopt;
}

}  // namespace creni::forward::detail
