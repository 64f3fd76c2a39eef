#include "creni/dicom/transfer_syntax_detection.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcxfer.h>

namespace creni::dicom {

std::string transfer_syntax_of(DcmFileFormat& file) {
  OFString declared;
  DcmMetaInfo* meta = file.getMetaInfo();
  if (meta != nullptr && meta->findAndGetOFString(DCM_TransferSyntaxUID, declared).good() && !declared.empty() &&
      DcmXfer(declared.c_str()).getXfer() == EXS_Unknown) {
    return declared.c_str();
  }
  return DcmXfer(file.getDataset()->getOriginalXfer()).getXferID();
}

bool is_unknown_to_dcmtk(const std::string& transfer_syntax_uid) {
  return !transfer_syntax_uid.empty() && DcmXfer(transfer_syntax_uid.c_str()).getXfer() == EXS_Unknown;
}

}  // namespace creni::dicom
