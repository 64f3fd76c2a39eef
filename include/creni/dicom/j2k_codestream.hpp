#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::dicom {

/// What a JPEG 2000 frame must look like to be decoded: the pixel module's geometry. Checked against the codestream's
/// header before OpenJPEG allocates anything for the image, so a crafted header cannot make the decoder allocate more
/// than the pixel module (already capped) declares.
struct J2kExpectation {
  std::uint32_t rows = 0;
  std::uint32_t columns = 0;
  std::uint32_t samples_per_pixel = 1;
  std::uint32_t bits_allocated = 16;
};

/// One decoded JPEG 2000 frame: `samples` holds rows * columns * components values, interleaved (sample-by-pixel),
/// as OpenJPEG returns them (signed when the codestream says so).
struct J2kFrame {
  std::uint32_t components = 0;
  std::uint32_t precision = 0;     ///< bits per sample of the first component
  bool is_signed = false;          ///< the codestream's own signedness (may disagree with PixelRepresentation)
  bool multi_component_transform = false;  ///< the codestream applies the RCT/ICT (decoded samples are RGB)
  std::vector<std::int32_t> samples;
};

/// True when `bytes` start with the JP2 file signature box (ISO/IEC 15444-1 Annex I) rather than a bare codestream.
[[nodiscard]] bool is_jp2_file(const std::uint8_t* bytes, std::size_t size);

/// True when `bytes` start a JPEG 2000 frame: the SOC and SIZ markers of a codestream, or the JP2 signature box.
[[nodiscard]] bool starts_j2k_frame(const std::uint8_t* bytes, std::size_t size);

/// Decodes one JPEG 2000 frame (a bare codestream, Part 1 or Part 15 HTJ2K, or one wrapped in a JP2 file, told
/// apart by its signature) with OpenJPEG, in this process. Errors (Error::code):
///  - "decode_failed": not a JPEG 2000 stream, a header OpenJPEG refuses, or a corrupt codestream;
///  - "invalid_pixel_module": the header disagrees with the expectation (size, number of components, components of
///    different size or subsampled, precision above BitsAllocated).
[[nodiscard]] Result<J2kFrame> decode_j2k_frame(const std::uint8_t* bytes, std::size_t size,
                                                const J2kExpectation& expected);

}  // namespace creni::dicom
