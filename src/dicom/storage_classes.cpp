#include "creni/dicom/storage_classes.hpp"

#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>
#include <unordered_set>

#include "creni/dicom/transfer_syntaxes.hpp"

namespace creni::dicom {

namespace {

bool contains(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

const std::vector<std::string>& storage_sop_class_uids() {
  static const std::vector<std::string> kUids = [] {
    std::vector<std::string> uids;
    uids.reserve(static_cast<std::size_t>(numberOfDcmAllStorageSOPClassUIDs));
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i) {
      // DCMTK's table ends with a null entry on some builds; the count excludes it, the check keeps us safe anyway.
      if (dcmAllStorageSOPClassUIDs[i] != nullptr) uids.emplace_back(dcmAllStorageSOPClassUIDs[i]);
    }
    return uids;
  }();
  return kUids;
}

bool is_storage_sop_class(const std::string& sop_class_uid) {
  static const std::unordered_set<std::string> kSet(storage_sop_class_uids().begin(), storage_sop_class_uids().end());
  return kSet.count(sop_class_uid) != 0;
}

const std::vector<std::string>& private_non_image_sop_class_uids() {
  static const std::vector<std::string> kUids = {
      "1.3.12.2.1107.5.9.1",      // Siemens CSA Non-Image Storage
      "1.2.840.113619.4.2",       // GE Private 3D Model Storage
      "1.2.840.113619.4.3",       // GE Private eNTEGRA Protocol or NM Genie Storage
      "1.2.840.113619.4.4",       // GE Private PET Raw Data Storage
      "1.2.840.113619.4.5.249",   // GE Private (Advantage Workstation) Raw Data Storage
      "1.2.840.113619.4.26",      // GE Private DICOM RT Plan Storage
      "1.2.840.113619.4.27",      // GE Private PET Raw Data Storage (new)
      "1.2.840.113619.4.30",      // GE Private Advantage Workstation Saved State
  };
  return kUids;
}

bool is_private_non_image_sop_class(const std::string& sop_class_uid) {
  return contains(private_non_image_sop_class_uids(), sop_class_uid);
}

const std::vector<std::string>& storage_transfer_syntax_uids() {
  static const std::vector<std::string> kUids = [] {
    // Our preference: uncompressed first (cheapest to process, nothing lost), then the lossless-capable codecs.
    const std::vector<std::string> preferred = {
        UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
        UID_BigEndianExplicitTransferSyntax,    UID_DeflatedExplicitVRLittleEndianTransferSyntax,
        UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
        UID_JPEGProcess14SV1TransferSyntax,     UID_JPEGProcess14TransferSyntax,
        UID_JPEGLSLosslessTransferSyntax,       UID_JPEGLSLossyTransferSyntax,
        UID_RLELosslessTransferSyntax,          UID_JPEG2000LosslessOnlyTransferSyntax,
        UID_JPEG2000TransferSyntax,             kHtj2kLosslessUid,
        kHtj2kLosslessRpclUid,                  kHtj2kUid,
    };
    // Only what the processing core can decode: accepting anything else would acknowledge an image that can never
    // be processed. HTJ2K, unknown to DCMTK 3.6.7, is received through a stand-in (ingest/unknown_syntax_contexts).
    std::vector<std::string> accepted;
    for (const auto& uid : preferred) {
      if (is_decodable_transfer_syntax(uid)) accepted.push_back(uid);
    }
    return accepted;
  }();
  return kUids;
}

bool is_storage_transfer_syntax(const std::string& transfer_syntax_uid) {
  return contains(storage_transfer_syntax_uids(), transfer_syntax_uid);
}

const std::vector<std::string>& uncompressed_transfer_syntax_uids() {
  static const std::vector<std::string> kUids = {
      UID_LittleEndianExplicitTransferSyntax,
      UID_LittleEndianImplicitTransferSyntax,
      UID_BigEndianExplicitTransferSyntax,
  };
  return kUids;
}

}  // namespace creni::dicom
