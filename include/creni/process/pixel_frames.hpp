#pragma once

#include <opencv2/core.hpp>

#include <vector>

#include "creni/common/result.hpp"
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
/// is neither replaced nor re-encoded. Depth: CV_8U/CV_8S for BitsAllocated 8, CV_16U/CV_16S for 16.
/// Errors: "unsupported_pixel_format" (other BitsAllocated), "invalid_pixel_module" (no native Pixel Data, or
/// shorter than the module says: call dicom::check_native_pixel_length first).
[[nodiscard]] Result<std::vector<Frame>> frames_of(DcmDataset& dataset, const dicom::PixelModule& module);

}  // namespace creni::process
