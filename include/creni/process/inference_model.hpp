#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::process {

/// A trained model that maps one input tensor to one output tensor. Owned by the step that runs it ("infer"), which
/// belongs to one ProcessingChain, hence to one worker process. Not thread-safe (cv::dnn::Net is not): one model
/// per worker, never shared.
class InferenceModel {
 public:
  virtual ~InferenceModel() = default;

  /// Runs the model on `input`, a CV_32F blob (N-dimensional cv::Mat) in the model's layout with batch size 1.
  /// Returns the selected output as a CV_32F blob the caller owns. Error "inference_failed".
  [[nodiscard]] virtual Result<cv::Mat> run(const cv::Mat& input) = 0;

  /// The input dimensions the model declares (-1 where a dimension is symbolic); empty when it declares none.
  [[nodiscard]] virtual std::vector<std::int64_t> declared_input() const = 0;

  /// The name of the output that run() returns.
  [[nodiscard]] virtual const std::string& output_name() const = 0;

  /// SHA-256 of the model bytes as loaded (64 lowercase hex digits), for provenance.
  [[nodiscard]] virtual const std::string& sha256() const = 0;
};

/// An ONNX model run by OpenCV DNN (cv::dnn::readNetFromONNX) on the CPU. The file is read once: the bytes that are
/// hashed are the bytes that are loaded.
class OpenCvDnnModel final : public InferenceModel {
 public:
  /// Loads `path` and selects `output` (empty: the first output the graph declares). `threads` > 0 sets OpenCV's
  /// thread count for this process (a worker is one process per core: 1 avoids oversubscription); 0 keeps it.
  /// Errors, all "invalid_config" naming the key: "inference.model: cannot read ..." (missing, unreadable, not a
  /// regular file), "inference.model: not a valid ONNX model ..." (malformed, or OpenCV cannot import it),
  /// "inference.output: the model has no output '...' (outputs: ...)".
  [[nodiscard]] static Result<std::unique_ptr<OpenCvDnnModel>> load(const std::filesystem::path& path,
                                                                     const std::string& output, int threads);

  ~OpenCvDnnModel() override;
  OpenCvDnnModel(const OpenCvDnnModel&) = delete;
  OpenCvDnnModel& operator=(const OpenCvDnnModel&) = delete;

  [[nodiscard]] Result<cv::Mat> run(const cv::Mat& input) override;
  [[nodiscard]] std::vector<std::int64_t> declared_input() const override;
  [[nodiscard]] const std::string& output_name() const override;
  [[nodiscard]] const std::string& sha256() const override;

 private:
  struct Impl;
  explicit OpenCvDnnModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace creni::process
