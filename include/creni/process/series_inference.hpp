#pragma once

#include <opencv2/core.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/process/inference_model.hpp"
#include "creni/process/series_module.hpp"
#include "creni/process/series_report.hpp"

namespace creni::process {

/// One slice of a stack as the model sees it: its instance's first frame mapped like [inference] does
/// (ModelInputMapper::normalized: mapping, channels, input_size, mean/std).
struct StackSlice {
  std::string sop_instance_uid;
  cv::Mat values;  ///< CV_32FC(channels), input_height x input_width
};

/// Where model slice `index` of `depth` lies in a stack of `slices` (0-based, fractional): the centres of the first
/// and last slices stay where they are, so a resampled stack keeps its extent; equal counts map one to one, and a
/// single slice is repeated.
[[nodiscard]] double stack_source(std::size_t index, std::size_t depth, std::size_t slices);

/// The model input of a stack resampled to `depth` slices (linear interpolation between the two nearest slices,
/// stack_source()): 1xCxDxHxW for "ncdhw", 1xDxHxW for "ndhw" (one channel). CV_32F. `slices` must not be empty and
/// must all have the same size and channel count.
[[nodiscard]] cv::Mat stack_blob(const std::vector<StackSlice>& slices, std::size_t depth, config::StackLayout layout);

/// The series step "infer" where it runs, in its contained process: one ONNX model (InferenceModel) looking at a
/// whole series as a stack of slices.
///  - Input: the stack (in the order series.json gives it), resampled along the stack to the model's depth D: the
///    depth the model declares; where that dimension is symbolic, [series.infer] depth, and with depth 0 the
///    series' own slice count (no resampling).
///  - Output: K values (one score per label: series-level findings), or K x D values (a score per label and model
///    slice: the label's score is its highest, and the finding refers to the slices scoring at or above the
///    threshold, each model slice mapped to its nearest stack slice). Labels scoring at or above `threshold` become
///    findings, in label order. Anything else is "inference_failed" naming the shapes.
/// Owns its model; not thread-safe.
class SeriesInference {
 public:
  /// Checks the model against `config` before any series: the declared input's rank must fit the layout (5 for
  /// "ncdhw", 4 for "ndhw"), its channels, height and width the configured ones, a declared depth the configured
  /// depth (when not 0); when the depth is known, a probe run on a zero stack must give K or K x D values.
  /// Errors: "invalid_config" naming the key below `table` (e.g. "series.infer.depth").
  [[nodiscard]] static Result<std::unique_ptr<SeriesInference>> build(const config::SeriesInferConfig& config,
                                                                      std::unique_ptr<InferenceModel> model,
                                                                      const std::string& table);

  /// The depth the model gets for a stack of `slices`.
  [[nodiscard]] std::size_t depth_for(std::size_t slices) const;

  /// Runs the model on the stack. Error "inference_failed" (the model failed, gave NaN, or an output of another
  /// size), "invalid_pixel_module" when there are no slices.
  [[nodiscard]] Result<std::vector<SeriesFinding>> run(const std::vector<StackSlice>& slices);

  [[nodiscard]] const std::string& model_sha256() const { return model_->sha256(); }

 private:
  SeriesInference(config::SeriesInferConfig config, std::unique_ptr<InferenceModel> model, int declared_depth);

  config::SeriesInferConfig config_;
  std::unique_ptr<InferenceModel> model_;
  int declared_depth_;  // > 0 when the model declares it
};

/// The text of the settings file the contained process reads: [series.infer] (with `table`, the key its messages
/// name) and the image size cap.
[[nodiscard]] std::string series_infer_settings(const config::SeriesInferConfig& config, const std::string& table,
                                                std::uint64_t max_image_bytes);

/// `creni-node series-infer SETTINGS`: loads the model and builds the step (SeriesInference::build), nothing else.
[[nodiscard]] Status check_series_inference(const std::filesystem::path& settings);

/// `creni-node series-infer SETTINGS INSTANCES SERIES.json RESULT.json`: reads every instance of series.json in its
/// order (decoded and mapped like [inference]; the first frame of each), runs the model and writes result.json:
/// {"findings": [{"label", "score", "instances": [...]}], "algorithm": {"model_sha256", "details"}}, where details
/// say the stack order and depth ("stack order slice_position; 7 slices resampled to depth 4").
/// Errors: those of the instances ("not_dicom", "unsupported_photometric", ...), build() and run().
[[nodiscard]] Status run_series_inference(const std::filesystem::path& settings, const std::filesystem::path& series_json,
                                          const std::filesystem::path& result);

/// The series step "infer" of `series` (key `table`, e.g. "series" or "gateway[0].series") in the node: a
/// SeriesModule whose command is `executable series-infer` (the node's own binary, contained like a series module:
/// [series.infer] timeout_s and memory_mb, else [processing] job_timeout_s and worker_memory_mb). The model is
/// checked at once in such a contained run (check_series_inference), so a model that does not fit refuses the
/// start: "invalid_config" with the reason. Failures of a run are "inference_failed".
[[nodiscard]] Result<SeriesModule> make_series_infer_step(const config::SeriesConfig& series,
                                                          const config::ProcessingConfig& processing,
                                                          std::filesystem::path work_root, const std::string& executable,
                                                          const std::string& table);

}  // namespace creni::process
