#pragma once

#include <string>
#include <vector>

namespace creni::dicom {

/// The storage SOP classes the node accepts (C-STORE SCP) and may forward (C-STORE SCU): every storage SOP class
/// DCMTK 3.6.7 knows (dcmAllStorageSOPClassUIDs). One list for both network doors so that what comes in can go out.
/// Thread-safe (built once, never modified).
[[nodiscard]] const std::vector<std::string>& storage_sop_class_uids();

/// True when `sop_class_uid` is in storage_sop_class_uids().
[[nodiscard]] bool is_storage_sop_class(const std::string& sop_class_uid);

/// Vendors' private storage SOP classes of objects without pixel data that whole-study senders send along: Siemens
/// CSA Non-Image (1.3.12.2.1107.5.9.1) and GE's private classes (1.2.840.113619.4.x: 3D model, eNTEGRA protocol,
/// RT plan, PET raw data, Advantage Workstation state...). Accepted by the SCP only when [processing] non_image is
/// "pass" or "ignore"; with "reject" they are refused at negotiation, so the sender learns it at once.
[[nodiscard]] const std::vector<std::string>& private_non_image_sop_class_uids();

/// True when `sop_class_uid` is in private_non_image_sop_class_uids().
[[nodiscard]] bool is_private_non_image_sop_class(const std::string& sop_class_uid);

/// The transfer syntaxes accepted for storage, in the node's order of preference: Explicit VR Little Endian,
/// Implicit VR Little Endian, Explicit VR Big Endian, Deflated, JPEG baseline, JPEG extended, JPEG lossless SV1,
/// JPEG lossless, JPEG-LS lossless, JPEG-LS near-lossless, RLE, JPEG 2000 lossless and lossy, HTJ2K lossless,
/// lossless RPCL and lossy: the syntaxes the processing core decodes (decodable_transfer_syntax_uids()). JPEG 2000
/// Part 2, MPEG and HEVC are refused at negotiation. HTJ2K is newer than DCMTK 3.6.7: the SCP receives it through
/// a stand-in syntax (ingest/unknown_syntax_contexts.hpp).
/// The SCP honours the sender's order within this set; an SCU proposes in this order. Thread-safe.
[[nodiscard]] const std::vector<std::string>& storage_transfer_syntax_uids();

/// True when `transfer_syntax_uid` is in storage_transfer_syntax_uids().
[[nodiscard]] bool is_storage_transfer_syntax(const std::string& transfer_syntax_uid);

/// The uncompressed syntaxes (Explicit LE, Implicit LE, Explicit BE): what Verification (C-ECHO) is accepted with.
[[nodiscard]] const std::vector<std::string>& uncompressed_transfer_syntax_uids();

}  // namespace creni::dicom
