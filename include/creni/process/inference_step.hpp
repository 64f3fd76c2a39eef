#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/process/inference_model.hpp"
#include "creni/process/pixel_frames.hpp"
#include "creni/process/processor.hpp"
#include "creni/process/provenance.hpp"

class DcmDataset;

namespace creni::process {

/// How the stored values of one image become model input values, read once per image ([inference] mapping):
///  - "window": MONOCHROME1/2 through RescaleSlope/Intercept and the image's first window (PS3.3 section
///    C.11.2.1.2, linear) to 0..1; without a usable window, the frame's own minimum..maximum; MONOCHROME1 inverted
///    so that 1 is what a viewer shows as white. RGB and YBR_FULL (converted to RGB): 0..2^BitsStored-1 to 0..1.
///  - "fixed_window": the same with [inference] window_center/window_width (color images: as "window").
///  - "raw": stored value * scale, nothing else (no rescale, no inversion).
/// Then gray/RGB conversion to the configured channels, resizing to the input size (stretched), (value - mean) / std.
class ModelInputMapper {
 public:
  /// Errors: "unsupported_photometric" for interpretations other than MONOCHROME1/2, RGB and YBR_FULL.
  [[nodiscard]] static Result<ModelInputMapper> read(DcmDataset& dataset, const dicom::PixelModule& module,
                                                     const config::InferenceConfig& config);

  /// One frame as an input blob for the model: CV_32F, 1xCxHxW ("nchw") or 1xHxWxC ("nhwc").
  [[nodiscard]] cv::Mat blob_of(const Frame& frame) const;

  /// One frame mapped to model values at its own size (before resizing and mean/std), CV_32FC(1 or 3).
  [[nodiscard]] cv::Mat mapped(const Frame& frame) const;

  /// One frame mapped, resized to the input size and normalized ((value - mean) / std): CV_32FC(channels), HxW.
  [[nodiscard]] cv::Mat normalized(const Frame& frame) const;

 private:
  enum class Kind { monochrome1, monochrome2, rgb, ybr_full };

  config::InferenceConfig config_;
  Kind kind_ = Kind::monochrome2;
  double slope_ = 1.0;
  double intercept_ = 0.0;
  std::optional<std::pair<double, double>> window_;  ///< center, width in modality units
  double color_max_ = 255.0;
};

/// Step "infer": runs the model on the selected frames of every image ([inference] frames) and turns its output
/// into findings that later steps use (the burned-in text, a segmentation outline):
///  - classification: one score per label; labels scoring at or above `threshold` (on any selected frame; the
///    highest score counts) become findings, in label order;
///  - segmentation: one probability map per label (output 1xKxHxW or 1xHxW), resized back to the image; pixels above
///    `mask_threshold` form the label's mask on that frame (ProcessingContext::masks) and a non-empty mask makes a
///    finding scored by the highest probability.
/// Records provenance (see provenance.hpp) and the model time (ProcessingContext::inference_ms, logged at debug by
/// the "process" logger). Owns its model: one step per ProcessingChain, not thread-safe.
/// Errors: "unsupported_photometric", "inference_failed" (the model failed, or gave NaN), those of frames_of().
class InferenceStep final : public Processor {
 public:
  /// Checks `model` against `config` before any image: the input shape the model declares must match
  /// input_size/channels/layout; a probe run on a zero blob of the configured shape must succeed and give an
  /// output that fits the task (classification: one value per label; segmentation: 1xKxHxW or 1xHxW, K labels).
  /// Errors: "invalid_config" naming the key.
  [[nodiscard]] static Result<std::unique_ptr<InferenceStep>> build(const config::InferenceConfig& config,
                                                                    std::unique_ptr<InferenceModel> model);

  [[nodiscard]] std::string_view name() const override { return "infer"; }
  [[nodiscard]] bool needs_pixels() const override { return true; }
  [[nodiscard]] Status apply(ProcessingContext& context) override;

  /// The algorithm recorded as provenance (name, version, model hash).
  [[nodiscard]] const AlgorithmIdentity& algorithm() const { return algorithm_; }

 private:
  InferenceStep(config::InferenceConfig config, std::unique_ptr<InferenceModel> model, AlgorithmIdentity algorithm);

  config::InferenceConfig config_;
  std::unique_ptr<InferenceModel> model_;
  AlgorithmIdentity algorithm_;
};

/// The "infer" step of `config`: loads config.model with OpenCvDnnModel and builds the step (errors of both,
/// "invalid_config" when config.model is empty).
[[nodiscard]] Result<std::unique_ptr<Processor>> make_inference_step(const config::InferenceConfig& config);

}  // namespace creni::process
