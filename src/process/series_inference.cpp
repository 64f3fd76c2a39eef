#include "creni/process/series_inference.hpp"

#include <algorithm>
#include <cmath>

#include "onnx_graph.hpp"

namespace creni::process {

namespace {

Error invalid(const std::string& key, const std::string& why) { return make_error("invalid_config", key + ": " + why); }

std::string layout_name(config::StackLayout layout) { return layout == config::StackLayout::ncdhw ? "ncdhw" : "ndhw"; }

// The input the configuration gives for `depth` slices (-1: not known before a series).
std::vector<std::int64_t> configured_dims(const config::SeriesInferConfig& config, std::int64_t depth) {
  const config::InferenceConfig& model = config.model;
  if (config.layout == config::StackLayout::ncdhw) return {1, model.channels, depth, model.input_height, model.input_width};
  return {1, depth, model.input_height, model.input_width};
}

std::string shape_of(const cv::Mat& blob) {
  std::vector<std::int64_t> dims;
  for (int i = 0; i < blob.dims; ++i) dims.push_back(blob.size[i]);
  return onnx::dims_text(dims);
}

// The declared input against the configured one; returns the declared depth (0 when symbolic or not declared).
Result<int> check_declared_input(const std::vector<std::int64_t>& declared, const config::SeriesInferConfig& config,
                                 const std::string& table) {
  if (declared.empty()) return 0;
  const std::vector<std::int64_t> wanted = configured_dims(config, config.depth > 0 ? config.depth : -1);
  const std::string both = "the model's input is " + onnx::dims_text(declared) + ", " + table + " gives " +
                           onnx::dims_text(wanted) + " (" + layout_name(config.layout) + ")";
  if (declared.size() != wanted.size()) return invalid(table + ".layout", both + ": the model needs another layout");
  const std::size_t depth_axis = config.layout == config::StackLayout::ncdhw ? 2 : 1;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (declared[i] < 0 || wanted[i] < 0 || declared[i] == wanted[i]) continue;
    const bool channel = config.layout == config::StackLayout::ncdhw && i == 1;
    return invalid(table + (i == depth_axis ? ".depth" : channel ? ".channels" : ".input_size"), both);
  }
  return declared[depth_axis] > 0 ? static_cast<int>(declared[depth_axis]) : 0;
}

// Blends two slices: (1 - weight) * a + weight * b.
cv::Mat blend(const cv::Mat& a, const cv::Mat& b, double weight) {
  if (weight <= 0.0) return a;
  cv::Mat out;
  cv::addWeighted(a, 1.0 - weight, b, weight, 0.0, out);
  return out;
}

}  // namespace

double stack_source(std::size_t index, std::size_t depth, std::size_t slices) {
  if (slices <= 1 || depth <= 1) return depth == slices || slices <= 1 ? 0.0 : (static_cast<double>(slices) - 1) / 2;
  return static_cast<double>(index) * static_cast<double>(slices - 1) / static_cast<double>(depth - 1);
}

cv::Mat stack_blob(const std::vector<StackSlice>& slices, std::size_t depth, config::StackLayout layout) {
  const int rows = slices.front().values.rows;
  const int columns = slices.front().values.cols;
  const int channels = layout == config::StackLayout::ncdhw ? slices.front().values.channels() : 1;
  const int d = static_cast<int>(depth);
  std::vector<int> dims = layout == config::StackLayout::ncdhw ? std::vector<int>{1, channels, d, rows, columns}
                                                               : std::vector<int>{1, d, rows, columns};
  cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
  const std::size_t plane = static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns);
  float* out = blob.ptr<float>();
  for (std::size_t z = 0; z < depth; ++z) {
    const double source = stack_source(z, depth, slices.size());
    const auto below = static_cast<std::size_t>(std::floor(source));
    const std::size_t above = std::min(below + 1, slices.size() - 1);
    const cv::Mat values = blend(slices[below].values, slices[above].values, source - static_cast<double>(below));
    std::vector<cv::Mat> planes;
    cv::split(values, planes);
    for (int c = 0; c < channels; ++c) {
      // ncdhw: channel-major, then slice; ndhw: the slice is the channel.
      float* target = out + (static_cast<std::size_t>(c) * depth + z) * plane;
      const cv::Mat contiguous = planes[static_cast<std::size_t>(c)].isContinuous() ? planes[static_cast<std::size_t>(c)]
                                                                                 : planes[static_cast<std::size_t>(c)].clone();
      std::copy_n(contiguous.ptr<float>(), plane, target);
    }
  }
  return blob;
}

SeriesInference::SeriesInference(config::SeriesInferConfig config, std::unique_ptr<InferenceModel> model, int declared_depth)
    : config_(std::move(config)), model_(std::move(model)), declared_depth_(declared_depth) {}

Result<std::unique_ptr<SeriesInference>> SeriesInference::build(const config::SeriesInferConfig& config,
                                                                 std::unique_ptr<InferenceModel> model,
                                                                 const std::string& table) {
  if (!model) return invalid(table + ".model", "no model");
  if (config.model.labels.empty()) return invalid(table + ".labels", "list at least one label");
  auto declared = check_declared_input(model->declared_input(), config, table);
  if (!declared) return declared.error();
  std::unique_ptr<SeriesInference> step(new SeriesInference(config, std::move(model), declared.value()));
  const int depth = declared.value() > 0 ? declared.value() : config.depth;
  if (depth == 0) return step;  // the series' own depth: the model shows what it accepts when a series comes

  // Shapes the model only reveals when it runs (reshapes, dense layers) are checked with a probe.
  std::vector<int> dims;
  for (const std::int64_t dim : configured_dims(config, depth)) dims.push_back(static_cast<int>(dim));
  const cv::Mat probe(static_cast<int>(dims.size()), dims.data(), CV_32F, cv::Scalar(0));
  auto output = step->model_->run(probe);
  if (!output) {
    return invalid(table + ".depth", "the model fails on a " + shape_of(probe) + " input (" + layout_name(config.layout) +
                                         "): " + output.error().message);
  }
  const std::size_t labels = config.model.labels.size();
  if (output->total() != labels && output->total() != labels * static_cast<std::size_t>(depth)) {
    return invalid(table + ".labels", "output '" + step->model_->output_name() + "' is " + shape_of(output.value()) + " (" +
                                          std::to_string(output->total()) + " values) but " + std::to_string(labels) +
                                          " label(s) need " + std::to_string(labels) + " or " +
                                          std::to_string(labels * static_cast<std::size_t>(depth)) + " (per slice)");
  }
  return step;
}

std::size_t SeriesInference::depth_for(std::size_t slices) const {
  if (declared_depth_ > 0) return static_cast<std::size_t>(declared_depth_);
  return config_.depth > 0 ? static_cast<std::size_t>(config_.depth) : slices;
}

Result<std::vector<SeriesFinding>> SeriesInference::run(const std::vector<StackSlice>& slices) {
  if (slices.empty()) return make_error("invalid_pixel_module", "a series without slices");
  const std::size_t depth = depth_for(slices.size());
  const cv::Mat blob = stack_blob(slices, depth, config_.layout);
  auto output = model_->run(blob);
  if (!output) return make_error("inference_failed", "the model fails on a " + shape_of(blob) + " stack: " + output.error().message);
  const cv::Mat& scores = output.value();
  if (!cv::checkRange(scores, true)) return make_error("inference_failed", "the model gave NaN or infinite values");
  const std::size_t labels = config_.model.labels.size();
  const bool per_slice = scores.total() == labels * depth && depth > 1;
  if (!per_slice && scores.total() != labels) {
    return make_error("inference_failed", "the model gave " + shape_of(scores) + " (" + std::to_string(scores.total()) +
                                              " values) for a " + shape_of(blob) + " stack; " + std::to_string(labels) +
                                              " label(s) need " + std::to_string(labels) + " or " +
                                              std::to_string(labels * depth) + " (per slice)");
  }

  std::vector<SeriesFinding> findings;
  const float* values = scores.ptr<float>();
  const std::size_t per_label = per_slice ? depth : 1;
  for (std::size_t k = 0; k < labels; ++k) {
    const float* own = values + k * per_label;
    const double score = std::clamp(static_cast<double>(*std::max_element(own, own + per_label)), 0.0, 1.0);
    if (score < config_.model.threshold) continue;
    SeriesFinding finding;
    finding.label = config_.model.labels[k];
    finding.score = score;
    for (std::size_t z = 0; per_slice && z < depth; ++z) {
      if (std::clamp(static_cast<double>(own[z]), 0.0, 1.0) < config_.model.threshold) continue;
      const auto nearest = static_cast<std::size_t>(std::lround(stack_source(z, depth, slices.size())));
      const std::string& uid = slices[nearest].sop_instance_uid;
      if (std::find(finding.instances.begin(), finding.instances.end(), uid) == finding.instances.end()) {
        finding.instances.push_back(uid);
      }
    }
    findings.push_back(std::move(finding));
  }
  return findings;
}

}  // namespace creni::process
