#pragma once

#include <filesystem>
#include <string>

#include "creni/common/result.hpp"
#include "dicom_factory.hpp"

namespace creni::testing {

/// How a JPEG 2000 test file is encoded. Part 1 codestreams are made by OpenJPEG's own `opj_compress` (Debian
/// libopenjp2-tools) from the factory's pixel values written as raw little endian samples; HTJ2K (Part 15, the HT
/// block coder) codestreams by OpenJPH's `ojph_compress` (Debian openjph-tools), because Debian 12's OpenJPEG 2.5.0
/// decodes HTJ2K but cannot encode it. Either is wrapped here as encapsulated Pixel Data (PS3.5 section A.4) with
/// DCMTK. Signed pixels, `jp2` and `unsigned_codestream` under an HTJ2K UID still get a Part 1 codestream: Debian's
/// OpenJPH 0.9 writes bare codestreams only, and its signed samples do not decode the same elsewhere.
struct J2kOptions {
  bool lossy = false;                ///< irreversible 9-7 wavelet at 10:1 (`-I -r 10`) instead of reversible 5-3
  bool jp2 = false;                  ///< a JP2 file (signature box) instead of a bare codestream
  bool mct = true;                   ///< colour transform for three samples (photometric YBR_RCT, or YBR_ICT lossy)
  int fragments_per_frame = 1;       ///< each frame's codestream split into this many fragments
  bool basic_offset_table = false;   ///< fill the Basic Offset Table
  bool extended_offset_table = false;///< add (7FE0,0001)/(7FE0,0002)
  bool unsigned_codestream = false;  ///< signed pixels compressed as their unsigned bit patterns (a common quirk)
  std::string photometric;           ///< override of the written PhotometricInterpretation ("" = as above)
};

/// True for the JPEG 2000 and HTJ2K transfer syntaxes.
bool is_j2k_syntax(const std::string& transfer_syntax_uid);

/// Writes spec's image as a Part 10 file in spec.transfer_syntax (a JPEG 2000 or HTJ2K syntax).
Status write_j2k_image(const ImageSpec& spec, const J2kOptions& options, const std::filesystem::path& file);

}  // namespace creni::testing
