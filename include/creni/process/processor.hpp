#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/dicom/pixel_module.hpp"

namespace creni::process {

/// Something a step found in the image (an AI finding); later steps may draw it and the chain records it.
struct Finding {
  std::string label;   ///< for example "nodule"
  double score = 0.0;  ///< 0..1
};

/// A region a step found on one frame, in image coordinates; "burn_in" outlines it.
struct FindingMask {
  std::uint32_t frame = 0;  ///< 0-based frame index
  std::string label;        ///< the finding it belongs to
  cv::Mat mask;             ///< CV_8U, Rows x Columns of the image, non-zero inside the region, never empty
};

/// What the steps of one run share. Owned by ProcessingChain::run for the duration of one image; not thread-safe.
struct ProcessingContext {
  /// The image. A step may replace it with another Instance of the same SOP instance ("external" does).
  dicom::Instance& instance;
  const config::ProcessingConfig& config;
  /// The pixel module when the image has pixel data (decoded to native before the first step runs), else empty.
  std::optional<dicom::PixelModule> pixels = std::nullopt;
  /// Findings of earlier steps, in order.
  std::vector<Finding> findings = {};
  /// Regions of earlier steps' findings (segmentation), at most one per frame and label.
  std::vector<FindingMask> masks = {};
  /// Appended to DerivationDescription after the step names, e.g. which model ran ("nodule-screen 1.0 (...)").
  std::vector<std::string> derivation_notes = {};
  /// Time spent running models on this image, in milliseconds (for status and benchmarks).
  double inference_ms = 0.0;
  /// Set by a step that changed pixel values (BurnedInAnnotation YES, PS3.3 section C.7.6.1.1.7).
  bool burned_in = false;
};

/// One step of the processing chain ("describe", "burn_in", ...). A processor is owned by one ProcessingChain,
/// which belongs to one thread or worker process; implementations need not be thread-safe.
class Processor {
 public:
  virtual ~Processor() = default;
  /// The step name used in [processing] steps.
  [[nodiscard]] virtual std::string_view name() const = 0;
  /// Changes the instance in `context`. Errors become the job's rejection reason (Error::code).
  [[nodiscard]] virtual Status apply(ProcessingContext& context) = 0;
  /// True when the step reads or writes pixel values (the chain then decodes them first).
  [[nodiscard]] virtual bool needs_pixels() const { return false; }
};

}  // namespace creni::process
