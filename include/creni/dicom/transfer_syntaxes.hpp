#pragma once

#include <string>
#include <vector>

namespace creni::dicom {

/// HTJ2K transfer syntaxes (PS3.5 section 10.20, A.4.7): newer than DCMTK 3.6.7, which has no names for them.
inline constexpr const char* kHtj2kLosslessUid = "1.2.840.10008.1.2.4.201";
inline constexpr const char* kHtj2kLosslessRpclUid = "1.2.840.10008.1.2.4.202";
inline constexpr const char* kHtj2kUid = "1.2.840.10008.1.2.4.203";

/// The transfer syntaxes the processing core can decode: uncompressed (implicit/explicit little endian, explicit big
/// endian), deflated, JPEG baseline/extended/lossless, JPEG-LS and RLE with the codecs DcmtkRuntime registers, and
/// JPEG 2000 (lossless only and lossy) and HTJ2K (lossless, lossless RPCL, lossy) with OpenJPEG. JPEG 2000 Part 2
/// multi-component, MPEG and HEVC are not in the list. Shared by the SCP (what it accepts) and the processing core
/// (what it refuses with "unsupported_ts").
[[nodiscard]] const std::vector<std::string>& decodable_transfer_syntax_uids();

/// True when `transfer_syntax_uid` is in decodable_transfer_syntax_uids().
[[nodiscard]] bool is_decodable_transfer_syntax(const std::string& transfer_syntax_uid);

/// True for the JPEG 2000 and HTJ2K syntaxes decoded with OpenJPEG (1.2.840.10008.1.2.4.90, .91, .201, .202, .203).
[[nodiscard]] bool is_j2k_transfer_syntax(const std::string& transfer_syntax_uid);

/// True when the syntax is (or may be) lossy, so that an image decoded from it must keep LossyImageCompression "01"
/// (PS3.3 section C.7.6.1.1.5): JPEG baseline/extended, JPEG-LS near-lossless, JPEG 2000 (.91) and HTJ2K (.203).
[[nodiscard]] bool is_lossy_transfer_syntax(const std::string& transfer_syntax_uid);

/// The LossyImageCompressionMethod defined term of a lossy syntax (PS3.3 section C.7.6.1.1.5.1): "ISO_10918_1"
/// (JPEG), "ISO_14495_1" (JPEG-LS), "ISO_15444_1" (JPEG 2000), "ISO_15444_15" (HTJ2K); "" for the others.
[[nodiscard]] std::string lossy_compression_method(const std::string& transfer_syntax_uid);

}  // namespace creni::dicom
