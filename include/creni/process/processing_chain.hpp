#pragma once

#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/process/processor.hpp"

namespace creni::process {

/// The identities of one processed image: what came in and what goes out.
struct ProcessedImage {
  dicom::InstanceIdentity source;
  dicom::InstanceIdentity result;
  std::vector<Finding> findings;
  double inference_ms = 0.0;  ///< time spent running models (step "infer"), for status and benchmarks
};

/// The configured steps in order, run on one image at a time: the same code for the service's workers and for
/// `creni-node process`. Owns its processors; belongs to one thread (an inference model is not thread-safe).
class ProcessingChain {
 public:
  /// Builds the steps named in `processing.steps`; "infer" loads and checks its model here, once per chain (one
  /// chain per worker process), so that a bad model stops the start, not the first image. Errors: "invalid_config"
  /// for a step this build cannot run, a model file that is missing or unreadable, a model whose input or output
  /// does not match [inference], an external module that cannot be run.
  [[nodiscard]] static Result<ProcessingChain> build(const config::ProcessingConfig& processing,
                                                     const config::InferenceConfig& inference);

  ProcessingChain(ProcessingChain&&) noexcept;
  ProcessingChain& operator=(ProcessingChain&&) noexcept;
  ~ProcessingChain();

  /// Processes `instance` in place into its derived result (see derivation.hpp), ready for OutputWriter:
  ///  1. checks the pixel module before anything is decoded (not_an_image unless [processing] non_image = "pass",
  ///     missing_pixel_data, invalid_pixel_module, image_too_large);
  ///  2. decodes compressed pixel data to native when a step needs pixels (unsupported_ts, decode_failed), and
  ///     checks its length;
  ///  3. runs each step; 4. writes the derived UIDs and marks.
  /// With `study` original ([output] study), the result stays in the original study, whose StudyDescription it
  /// keeps as it was (a study-level value must not differ between the study's series).
  /// Every error code becomes the job's rejection reason.
  [[nodiscard]] Result<ProcessedImage> run(dicom::Instance& instance,
                                           config::OutputStudy study = config::OutputStudy::derived);
  /// run() with a gateway's own non-image policy instead of [processing] non_image.
  [[nodiscard]] Result<ProcessedImage> run(dicom::Instance& instance, config::NonImagePolicy non_image,
                                           config::OutputStudy study = config::OutputStudy::derived);

  /// The step names in order, for logs.
  [[nodiscard]] std::vector<std::string> step_names() const;

 private:
  ProcessingChain(config::ProcessingConfig processing, std::vector<std::unique_ptr<Processor>> steps);

  config::ProcessingConfig processing_;
  std::vector<std::unique_ptr<Processor>> steps_;
};

}  // namespace creni::process
