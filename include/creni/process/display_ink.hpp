#pragma once

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "creni/process/pixel_frames.hpp"

class DcmDataset;

namespace creni::process {

/// Stored pixel values (one per sample) to draw with: `text` is displayed as white and `box` as black under the
/// image's own display pipeline, so burned-in text is visible whatever the bit depth (never a fixed 255).
struct Ink {
  cv::Scalar text;
  cv::Scalar box;
};

/// How an image is displayed (PS3.3 section C.11, grayscale pipeline; C.7.6.3.1.2 for color), read once per image.
/// - MONOCHROME1/2: every WindowCenter/WindowWidth pair mapped back through RescaleSlope/Intercept to stored
///   values, the text above the highest upper edge and the box below the lowest lower edge (so the text shows
///   whichever window a viewer picks), clamped to the BitsStored range; without a usable window, the frame's own minimum and maximum (full range).
///   MONOCHROME1 shows low values as white, so its inks are swapped. Float and Double Float Pixel Data (Parametric
///   Maps): always the frame's own minimum and maximum (their windows are often narrower than one stored unit).
/// - RGB: full-scale white and zero; YBR_FULL: full luma with neutral chroma.
/// - PALETTE COLOR: the entries of the palette with the highest and lowest luminance.
class DisplayModel {
 public:
  /// Errors: "unsupported_photometric" (YBR_FULL_422 and other subsampled or retired interpretations),
  /// "invalid_pixel_module" (a palette without usable descriptors or data).
  [[nodiscard]] static Result<DisplayModel> read(DcmDataset& dataset, const dicom::PixelModule& module);

  /// The inks for one frame of this image.
  [[nodiscard]] Ink ink_for(const Frame& frame) const;

 private:
  enum class Kind { monochrome1, monochrome2, rgb, ybr_full, palette };

  Kind kind_ = Kind::monochrome2;
  double stored_min_ = 0;
  double stored_max_ = 0;
  std::optional<std::pair<double, double>> window_;  ///< [low, high] in stored values
  bool floating_ = false;                           ///< Float/Double Float Pixel Data: the frame's own range only
  Ink fixed_{};                                     ///< color and palette images: the same for every frame
};

}  // namespace creni::process
