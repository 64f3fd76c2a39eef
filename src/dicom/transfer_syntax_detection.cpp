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

}  // namespace creni::dicom
