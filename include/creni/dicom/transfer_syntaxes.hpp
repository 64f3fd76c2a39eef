#pragma once

#include <string>
#include <vector>

namespace creni::dicom {

/// The transfer syntaxes the processing core can decode with the codecs DcmtkRuntime registers: uncompressed
/// (implicit/explicit little endian, explicit big endian), deflated, JPEG baseline/extended/lossless, JPEG-LS and
/// RLE. JPEG 2000, MPEG, HEVC and HTJ2K have no decoder in DCMTK 3.6.7 and are not in the list.
/// Shared by the SCP (what it accepts) and the processing core (what it refuses with "unsupported_ts").
[[nodiscard]] const std::vector<std::string>& decodable_transfer_syntax_uids();

/// True when `transfer_syntax_uid` is in decodable_transfer_syntax_uids().
[[nodiscard]] bool is_decodable_transfer_syntax(const std::string& transfer_syntax_uid);

}  // namespace creni::dicom
