#pragma once

#include <cstdint>

#include "creni/common/result.hpp"

class DcmDataset;

namespace creni::dicom {

/// Uncompressed YBR_FULL_422 (PS3.3 section C.7.6.3.1.2: per two pixels of a row Y1 Y2 Cb Cr, the chroma shared)
/// becomes YBR_FULL (Y Cb Cr per pixel, the shared chroma repeated), so that every later step sees three samples
/// per pixel. Does nothing for other photometric interpretations. Requires 8 or 16 bits, even Columns and
/// PlanarConfiguration 0, and at least the 4:2:2 length of Pixel Data (rows * columns * 2 samples per frame).
/// Errors: "invalid_pixel_module" (any of these not met), "image_too_large" (the expanded data above
/// `max_image_bytes`).
[[nodiscard]] Status expand_ybr_full_422(DcmDataset& dataset, std::uint64_t max_image_bytes);

}  // namespace creni::dicom
