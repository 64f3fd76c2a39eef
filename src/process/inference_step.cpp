#include "creni/process/inference_step.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "onnx_graph.hpp"

namespace creni::process {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("process");
  return named ? named : spdlog::default_logger();
}

Error invalid(const std::string& key, const std::string& why) { return make_error("invalid_config", key + ": " + why); }

std::string layout_name(config::TensorLayout layout) { return layout == config::TensorLayout::nchw ? "nchw" : "nhwc"; }

std::vector<std::int64_t> configured_dims(const config::InferenceConfig& config) {
  if (config.layout == config::TensorLayout::nchw) return {1, config.channels, config.input_height, config.input_width};
  return {1, config.input_height, config.input_width, config.channels};
}

std::string shape_of(const cv::Mat& blob) {
  std::vector<std::int64_t> dims;
  for (int i = 0; i < blob.dims; ++i) dims.push_back(blob.size[i]);
  return onnx::dims_text(dims);
}

// The input the model declares against the configured one. Symbolic dimensions match anything.
Status check_declared_input(const std::vector<std::int64_t>& declared, const config::InferenceConfig& config) {
  if (declared.empty()) return {};
  const std::vector<std::int64_t> wanted = configured_dims(config);
  const std::string both = "the model's input is " + onnx::dims_text(declared) + ", [inference] gives " +
                           onnx::dims_text(wanted) + " (" + layout_name(config.layout) + ")";
  if (declared.size() != wanted.size()) return invalid("inference.input_size", both + ": the model needs another layout or rank");
  const std::size_t channel_axis = config.layout == config::TensorLayout::nchw ? 1 : 3;
  bool channels_differ = false;
  bool size_differs = false;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (declared[i] < 0 || declared[i] == wanted[i]) continue;
    (i == channel_axis ? channels_differ : size_differs) = true;
  }
  if (!channels_differ && !size_differs) return {};
  return invalid(size_differs ? "inference.input_size" : "inference.channels", both);
}

// The probe's output must fit the task: one value per label, or one map per label.
Status check_output(const cv::Mat& output, const config::InferenceConfig& config, const std::string& name) {
  const std::size_t labels = config.labels.size();
  const std::string shape = "output '" + name + "' is " + shape_of(output);
  if (config.task == config::InferenceTask::classification) {
    if (output.total() != labels) {
      return invalid("inference.labels", shape + " (" + std::to_string(output.total()) + " scores) but " +
                                             std::to_string(labels) + " labels are listed");
    }
    return {};
  }
  const bool planes = output.dims == 4 && output.size[0] == 1 && output.size[1] == static_cast<int>(labels);
  const bool single = output.dims == 3 && output.size[0] == 1 && labels == 1;
  if (!planes && !single) {
    return invalid("inference.task", "segmentation needs an output of 1xKxHxW (K = " + std::to_string(labels) +
                                         " labels) or 1xHxW; " + shape);
  }
  return {};
}

double first_decimal(DcmDataset& dataset, const DcmTagKey& tag, double fallback) {
  Float64 value = 0;
  return dataset.findAndGetFloat64(tag, value, 0).good() && std::isfinite(value) ? value : fallback;
}

// PS3.3 section C.11.2.1.2.1: the linear VOI function, giving 0..1.
void apply_window(cv::Mat& values, double center, double width) {
  const double span = std::max(width - 1.0, 1e-6);
  values.convertTo(values, CV_32F, 1.0 / span, -(center - 0.5) / span + 0.5);
  cv::min(values, 1.0, values);
  cv::max(values, 0.0, values);
}

cv::Scalar per_channel(const std::vector<double>& values, int channels) {
  cv::Scalar scalar = cv::Scalar::all(values.empty() ? 0.0 : values.front());
  for (int c = 0; c < channels && static_cast<std::size_t>(c) < values.size(); ++c) scalar[c] = values[static_cast<std::size_t>(c)];
  return scalar;
}

std::vector<std::uint32_t> selected_frames(std::uint32_t count, config::FrameSelection selection) {
  if (count == 0) return {};
  switch (selection) {
    case config::FrameSelection::first: return {0};
    case config::FrameSelection::middle: return {count / 2};
    case config::FrameSelection::all: break;
  }
  std::vector<std::uint32_t> all(count);
  for (std::uint32_t i = 0; i < count; ++i) all[i] = i;
  return all;
}

}  // namespace

Result<ModelInputMapper> ModelInputMapper::read(DcmDataset& dataset, const dicom::PixelModule& module,
                                                const config::InferenceConfig& config) {
  ModelInputMapper mapper;
  mapper.config_ = config;
  const std::string& photometric = module.photometric;
  if (photometric == "MONOCHROME1") {
    mapper.kind_ = Kind::monochrome1;
  } else if (photometric == "MONOCHROME2") {
    mapper.kind_ = Kind::monochrome2;
  } else if (photometric == "RGB") {
    mapper.kind_ = Kind::rgb;
  } else if (photometric == "YBR_FULL") {
    mapper.kind_ = Kind::ybr_full;
  } else {
    return make_error("unsupported_photometric", "infer cannot map PhotometricInterpretation '" + photometric + "' to model input");
  }
  mapper.color_max_ = std::ldexp(1.0, static_cast<int>(std::min<std::uint32_t>(module.bits_stored, 16))) - 1;
  mapper.slope_ = first_decimal(dataset, DCM_RescaleSlope, 1.0);
  if (mapper.slope_ == 0) mapper.slope_ = 1.0;
  mapper.intercept_ = first_decimal(dataset, DCM_RescaleIntercept, 0.0);
  if (config.mapping == config::ValueMapping::fixed_window) {
    mapper.window_ = std::make_pair(config.window_center, config.window_width);
  } else if (config.mapping == config::ValueMapping::window) {
    Float64 center = 0;
    Float64 width = 0;
    // The first window is the one a viewer shows first (PS3.3 section C.11.2.1.2).
    if (dataset.findAndGetFloat64(DCM_WindowCenter, center, 0).good() && dataset.findAndGetFloat64(DCM_WindowWidth, width, 0).good() &&
        std::isfinite(center) && std::isfinite(width) && width >= 1) {
      mapper.window_ = std::make_pair(static_cast<double>(center), static_cast<double>(width));
    }
  }
  return mapper;
}

cv::Mat ModelInputMapper::mapped(const Frame& frame) const {
  cv::Mat stored;
  if (frame.planes.size() > 1) {
    cv::merge(frame.planes, stored);
  } else {
    stored = frame.planes.front();
  }
  cv::Mat values;
  stored.convertTo(values, CV_32F);
  const bool raw = config_.mapping == config::ValueMapping::raw;

  if (kind_ == Kind::ybr_full) {
    // PS3.3 section C.7.6.3.1.2 YBR_FULL to RGB (full-range ITU-R BT.601), in stored units.
    const double half = std::floor((color_max_ + 1) / 2);
    const cv::Matx34f to_rgb(1.f, 0.f, 1.402f, static_cast<float>(-1.402 * half),
                             1.f, -0.344136f, -0.714136f, static_cast<float>((0.344136 + 0.714136) * half),
                             1.f, 1.772f, 0.f, static_cast<float>(-1.772 * half));
    cv::transform(values, values, to_rgb);
  }
  if (raw) {
    values.convertTo(values, CV_32F, config_.scale);
  } else if (kind_ == Kind::rgb || kind_ == Kind::ybr_full) {
    values.convertTo(values, CV_32F, 1.0 / color_max_);
    cv::min(values, 1.0, values);
    cv::max(values, 0.0, values);
  } else {
    values.convertTo(values, CV_32F, slope_, intercept_);  // modality values (PS3.3 section C.11.1)
    if (window_) {
      apply_window(values, window_->first, window_->second);
    } else {
      double low = 0;
      double high = 0;
      cv::minMaxLoc(values, &low, &high);
      if (high > low) {
        values.convertTo(values, CV_32F, 1.0 / (high - low), -low / (high - low));
      } else {
        values.setTo(0.0);
      }
    }
    if (kind_ == Kind::monochrome1) values.convertTo(values, CV_32F, -1.0, 1.0);
  }

  if (values.channels() == 3 && config_.channels == 1) {
    cv::cvtColor(values, values, cv::COLOR_RGB2GRAY);
  } else if (values.channels() == 1 && config_.channels == 3) {
    cv::cvtColor(values, values, cv::COLOR_GRAY2RGB);
  }
  return values;
}

cv::Mat ModelInputMapper::normalized(const Frame& frame) const {
  const cv::Mat values = mapped(frame);
  const cv::Size size(config_.input_width, config_.input_height);
  const bool shrinking = size.width < values.cols && size.height < values.rows;
  cv::Mat resized;
  cv::resize(values, resized, size, 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int channels = resized.channels();
  cv::subtract(resized, per_channel(config_.mean, channels), resized);
  cv::divide(resized, per_channel(config_.stddev, channels), resized);
  return resized;
}

cv::Mat ModelInputMapper::blob_of(const Frame& frame) const {
  cv::Mat resized = normalized(frame);
  const int channels = resized.channels();
  if (config_.layout == config::TensorLayout::nchw) return cv::dnn::blobFromImage(resized, 1.0, cv::Size(), cv::Scalar(), false, false, CV_32F);
  const int dims[] = {1, resized.rows, resized.cols, channels};
  return cv::Mat(4, dims, CV_32F, resized.ptr<float>()).clone();
}

InferenceStep::InferenceStep(config::InferenceConfig config, std::unique_ptr<InferenceModel> model, AlgorithmIdentity algorithm)
    : config_(std::move(config)), model_(std::move(model)), algorithm_(std::move(algorithm)) {}

Result<std::unique_ptr<InferenceStep>> InferenceStep::build(const config::InferenceConfig& config,
                                                            std::unique_ptr<InferenceModel> model) {
  if (!model) return invalid("inference.model", "no model");
  if (config.labels.empty()) return invalid("inference.labels", "list at least one label");
  if (Status declared = check_declared_input(model->declared_input(), config); !declared) return declared.error();

  // Shapes the model only reveals when it runs (convolution channels, reshapes) are checked with a probe.
  std::vector<int> dims;
  for (const std::int64_t dim : configured_dims(config)) dims.push_back(static_cast<int>(dim));
  const cv::Mat probe(static_cast<int>(dims.size()), dims.data(), CV_32F, cv::Scalar(0));
  auto output = model->run(probe);
  if (!output) {
    return invalid("inference.input_size", "the model fails on a " + shape_of(probe) + " input (" +
                                               layout_name(config.layout) + "): " + output.error().message);
  }
  if (Status fits = check_output(output.value(), config, model->output_name()); !fits) return fits.error();

  AlgorithmIdentity algorithm;
  algorithm.step = "infer";
  algorithm.name = config.algorithm_name.empty() ? config.model.stem().string() : config.algorithm_name;
  if (algorithm.name.empty()) algorithm.name = "model";
  algorithm.version = config.algorithm_version.empty() ? "unversioned" : config.algorithm_version;
  algorithm.model_sha256 = model->sha256();
  return std::unique_ptr<InferenceStep>(new InferenceStep(config, std::move(model), std::move(algorithm)));
}

Status InferenceStep::apply(ProcessingContext& context) {
  if (!context.pixels) return {};  // a non-image passed by policy: nothing to look at
  DcmDataset& dataset = context.instance.dataset();
  const dicom::PixelModule& module = *context.pixels;
  auto mapper = ModelInputMapper::read(dataset, module, config_);
  if (!mapper) return mapper.error();
  auto frames = frames_of(dataset, module);
  if (!frames) return frames.error();

  const std::size_t labels = config_.labels.size();
  std::vector<double> best(labels, -1.0);  // highest score per label over the selected frames; -1 = not found
  const int rows = static_cast<int>(module.rows);
  const int columns = static_cast<int>(module.columns);
  double model_ms = 0.0;
  const std::vector<std::uint32_t> selection = selected_frames(static_cast<std::uint32_t>(frames->size()), config_.frames);

  for (const std::uint32_t index : selection) {
    const cv::Mat blob = mapper->blob_of(frames.value()[index]);
    const auto start = std::chrono::steady_clock::now();
    auto output = model_->run(blob);
    model_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!output) return output.error();
    const cv::Mat& scores = output.value();
    if (cv::checkRange(scores, true) == false) return make_error("inference_failed", "the model gave NaN or infinite values");

    if (config_.task == config::InferenceTask::classification) {
      if (scores.total() != labels) return make_error("inference_failed", "the model gave " + std::to_string(scores.total()) + " scores");
      const float* values = scores.ptr<float>();
      for (std::size_t k = 0; k < labels; ++k) {
        const double score = std::clamp(static_cast<double>(values[k]), 0.0, 1.0);
        if (score >= config_.threshold) best[k] = std::max(best[k], score);
      }
      continue;
    }

    const int height = scores.size[scores.dims - 2];
    const int width = scores.size[scores.dims - 1];
    const std::size_t plane = static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
    if (scores.total() != plane * labels) return make_error("inference_failed", "the model gave a map of " + shape_of(scores));
    for (std::size_t k = 0; k < labels; ++k) {
      // A view of label k's map at the model's resolution, then back to the image's own size.
      const cv::Mat map(height, width, CV_32F, const_cast<float*>(scores.ptr<float>()) + k * plane);
      cv::Mat resized;
      cv::resize(map, resized, cv::Size(columns, rows), 0, 0, cv::INTER_LINEAR);
      cv::Mat mask = resized > config_.mask_threshold;
      if (cv::countNonZero(mask) == 0) continue;
      double high = 0;
      cv::minMaxLoc(resized, nullptr, &high, nullptr, nullptr, mask);
      best[k] = std::max(best[k], std::clamp(high, 0.0, 1.0));
      context.masks.push_back(FindingMask{index, config_.labels[k], std::move(mask)});
    }
  }

  std::vector<Finding> found;
  for (std::size_t k = 0; k < labels; ++k) {
    if (best[k] >= 0) found.push_back(Finding{config_.labels[k], best[k]});
  }
  context.findings.insert(context.findings.end(), found.begin(), found.end());
  context.inference_ms += model_ms;
  logger()->debug("sop={} infer: {} of {} frame(s) in {:.1f} ms, {}", context.instance.identity().sop_instance_uid,
                  selection.size(), frames->size(), model_ms, findings_text(found));

  if (Status recorded = record_provenance(dataset, algorithm_, context.config.marker, found); !recorded) return recorded;
  context.derivation_notes.push_back(derivation_note(algorithm_));
  return {};
}

Result<std::unique_ptr<Processor>> make_inference_step(const config::InferenceConfig& config) {
  if (config.model.empty()) return invalid("inference.model", "required by step 'infer'");
  auto model = OpenCvDnnModel::load(config.model, config.output, config.threads);
  if (!model) return model.error();
  auto step = InferenceStep::build(config, std::move(model).value());
  if (!step) return step.error();
  return std::unique_ptr<Processor>(std::move(step).value());
}

}  // namespace creni::process
