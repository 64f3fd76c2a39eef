#pragma once

#include "creni/common/result.hpp"
#include "creni/dicom/pixel_module.hpp"

class DcmDataset;

namespace creni::dicom {

/// Replaces JPEG 2000 / HTJ2K encapsulated Pixel Data with native pixel data, frame by frame, in this process
/// (called by Instance::decode_pixels in a worker). `module` was read (and capped) before. Decoded samples are
/// written as the pixel module says, not as the codestream says: the low BitsStored bits of each sample, signed when
/// PixelRepresentation is 1 (codestreams whose signedness disagrees are common). A codestream with the multiple
/// component transform gives RGB: YBR_RCT/YBR_ICT become RGB; colour is written interleaved (PlanarConfiguration
/// 0). Errors: those of encapsulated_frames and decode_j2k_frame, "unsupported_pixel_format" (BitsAllocated other
/// than 8, 16 or 32).
[[nodiscard]] Status decode_j2k_pixel_data(DcmDataset& dataset, const PixelModule& module);

}  // namespace creni::dicom
