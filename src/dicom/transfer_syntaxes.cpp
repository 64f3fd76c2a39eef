#include "creni/dicom/transfer_syntaxes.hpp"

#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>

namespace creni::dicom {

const std::vector<std::string>& decodable_transfer_syntax_uids() {
  static const std::vector<std::string> kUids = {
      UID_LittleEndianExplicitTransferSyntax,
      UID_LittleEndianImplicitTransferSyntax,
      UID_BigEndianExplicitTransferSyntax,
      UID_DeflatedExplicitVRLittleEndianTransferSyntax,
      UID_JPEGProcess1TransferSyntax,
      UID_JPEGProcess2_4TransferSyntax,
      UID_JPEGProcess14TransferSyntax,
      UID_JPEGProcess14SV1TransferSyntax,
      UID_JPEGLSLosslessTransferSyntax,
      UID_JPEGLSLossyTransferSyntax,
      UID_RLELosslessTransferSyntax,
  };
  return kUids;
}

bool is_decodable_transfer_syntax(const std::string& transfer_syntax_uid) {
  const auto& uids = decodable_transfer_syntax_uids();
  return std::find(uids.begin(), uids.end(), transfer_syntax_uid) != uids.end();
}

}  // namespace creni::dicom
