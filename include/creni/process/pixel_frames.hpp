#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/dicom/pixel_module.hpp"

class DcmDataset;

namespace creni::process {

/// One frame of native pixel data. `planes` are cv::Mat headers over the dataset's own buffer (no copy: drawing on
/// them changes the pixel data): one multi-channel plane for interleaved samples (PlanarConfiguration 0, and every
/// single-sample image), or one single-channel plane per sample for PlanarConfiguration 1.
struct Frame {
  std::vector<cv::Mat> planes;
};

/// The frames of decoded (native) pixel data, in order. The views stay valid while the dataset's Pixel Data element
/// is neither replaced nor re-encoded. Depth: CV_8U/CV_8S for BitsAllocated 8, CV_16U/CV_16S for 16, CV_32S for 32
/// (signed or not: unsigned values must stay below 2^31 to be drawn on correctly).
/// Errors: "unsupported_pixel_format" (other BitsAllocated), "invalid_pixel_module" (no native Pixel Data, or
/// shorter than the module says: call dicom::check_native_pixel_length first).
[[nodiscard]] Result<std::vector<Frame>> frames_of(DcmDataset& dataset, const dicom::PixelModule& module);

/// BitsAllocated 1 (segmentations, overlays in pixel data): each frame unpacked to a CV_8U plane of 0 and 1
/// (PS3.5 section 8.1.1: the first pixel in the lowest bit; frames packed back to back). Errors:
/// "unsupported_pixel_format" (not 1 bit and one sample), "invalid_pixel_module" (no or short native data).
[[nodiscard]] Result<std::vector<cv::Mat>> unpack_bit_frames(DcmDataset& dataset, const dicom::PixelModule& module);

/// Writes planes made by unpack_bit_frames (any non-zero value sets the bit) back into the dataset's Pixel Data.
[[nodiscard]] Status pack_bit_frames(DcmDataset& dataset, const dicom::PixelModule& module,
                                     const std::vector<cv::Mat>& frames);

/// Makes the pixel data of `instance` ready for the steps: reads the pixel module and checks it before anything is
/// decoded (declared sizes are validated so that a crafted header cannot make us allocate), decodes compressed pixel
/// data to native, expands uncompressed YBR_FULL_422 to YBR_FULL, reads the module again (decoders may change how samples are laid out: JPEG gives interleaved
/// RGB, RLE gives planes) and, with `check_length`, checks the native length. Returns no module for an object
/// without pixel data when `processing.non_image` is "pass", and the error "ignored" for one when it is "ignore".
/// Errors: those of dicom::read_pixel_module,
/// Instance::decode_pixels and dicom::check_native_pixel_length.
/// `non_image` overrides processing.non_image (a gateway's own policy).
[[nodiscard]] Result<std::optional<dicom::PixelModule>> prepare_pixels(
    dicom::Instance& instance, const config::ProcessingConfig& processing, bool check_length,
    std::optional<config::NonImagePolicy> non_image = std::nullopt);

}  // namespace creni::process
