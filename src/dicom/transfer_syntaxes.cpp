#include "creni/dicom/transfer_syntaxes.hpp"

#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>

namespace creni::dicom {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

const std::vector<std::string>& j2k_transfer_syntax_uids() {
  static const std::vector<std::string> kUids = {
      UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax, kHtj2kLosslessUid,
      kHtj2kLosslessRpclUid,                  kHtj2kUid,
  };
  return kUids;
}

}  // namespace

const std::vector<std::string>& decodable_transfer_syntax_uids() {
  static const std::vector<std::string> kUids = [] {
    std::vector<std::string> uids = {
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
    uids.insert(uids.end(), j2k_transfer_syntax_uids().begin(), j2k_transfer_syntax_uids().end());
    return uids;
  }();
  return kUids;
}

bool is_decodable_transfer_syntax(const std::string& transfer_syntax_uid) {
  return contains(decodable_transfer_syntax_uids(), transfer_syntax_uid);
}

bool is_j2k_transfer_syntax(const std::string& transfer_syntax_uid) {
  return contains(j2k_transfer_syntax_uids(), transfer_syntax_uid);
}

bool is_lossy_transfer_syntax(const std::string& transfer_syntax_uid) {
  return !lossy_compression_method(transfer_syntax_uid).empty();
}

std::string lossy_compression_method(const std::string& transfer_syntax_uid) {
  static const std::vector<std::pair<std::string, std::string>> kMethods = {
      {UID_JPEGProcess1TransferSyntax, "ISO_10918_1"},   {UID_JPEGProcess2_4TransferSyntax, "ISO_10918_1"},
      {UID_JPEGLSLossyTransferSyntax, "ISO_14495_1"},    {UID_JPEG2000TransferSyntax, "ISO_15444_1"},
      {kHtj2kUid, "ISO_15444_15"},
  };
  for (const auto& [uid, method] : kMethods) {
    if (uid == transfer_syntax_uid) return method;
  }
  return {};
}

}  // namespace creni::dicom
