// The series step "infer" across its process boundary: the settings file the node writes, the contained process that
// reads it with series.json and writes result.json, and the node's side that starts it.
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "creni/common/content_hash.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/process/inference_step.hpp"
#include "creni/process/pixel_frames.hpp"
#include "creni/process/series_inference.hpp"
#include "module_run.hpp"

namespace creni::process {

namespace {

constexpr std::size_t kMaxSettingsBytes = 1 << 20;
constexpr std::size_t kMaxSeriesJsonBytes = 64 << 20;

struct Settings {
  config::SeriesInferConfig infer;
  std::string table;
  std::uint64_t max_image_bytes = 0;
};

Result<Settings> read_settings(const std::filesystem::path& path) {
  auto text = read_limited(path, kMaxSettingsBytes);
  if (!text) return make_error("invalid_config", "settings: " + text.error().message);
  const nlohmann::json json = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return make_error("invalid_config", "settings: not a JSON object");
  try {
    Settings settings;
    config::InferenceConfig& model = settings.infer.model;
    settings.table = json.at("table").get<std::string>();
    settings.max_image_bytes = json.at("max_image_bytes").get<std::uint64_t>();
    model.model = json.at("model").get<std::string>();
    model.input_width = json.at("input_size").at(0).get<int>();
    model.input_height = json.at("input_size").at(1).get<int>();
    model.channels = json.at("channels").get<int>();
    const std::string mapping = json.at("mapping").get<std::string>();
    model.mapping = mapping == "raw"            ? config::ValueMapping::raw
                    : mapping == "fixed_window" ? config::ValueMapping::fixed_window
                                                : config::ValueMapping::window;
    model.window_center = json.at("window_center").get<double>();
    model.window_width = json.at("window_width").get<double>();
    model.scale = json.at("scale").get<double>();
    model.mean = json.at("mean").get<std::vector<double>>();
    model.stddev = json.at("std").get<std::vector<double>>();
    model.labels = json.at("labels").get<std::vector<std::string>>();
    model.threshold = json.at("threshold").get<double>();
    model.output = json.at("output").get<std::string>();
    model.threads = json.at("threads").get<int>();
    settings.infer.layout = json.at("layout").get<std::string>() == "ndhw" ? config::StackLayout::ndhw : config::StackLayout::ncdhw;
    settings.infer.depth = json.at("depth").get<int>();
    return settings;
  } catch (const nlohmann::json::exception& e) {
    return make_error("invalid_config", std::string("settings: ") + e.what());
  }
}

Result<std::unique_ptr<SeriesInference>> load_step(const Settings& settings) {
  auto model = OpenCvDnnModel::load(settings.infer.model.model, settings.infer.model.output, settings.infer.model.threads);
  if (!model) {
    // OpenCvDnnModel names the [inference] keys; the operator configured this table.
    Error error = model.error();
    if (error.message.rfind("inference.", 0) == 0) error.message = settings.table + error.message.substr(9);
    return error;
  }
  return SeriesInference::build(settings.infer, std::move(model).value(), settings.table);
}

// One instance as a slice: decoded, checked and mapped like an image for [inference], first frame.
Result<StackSlice> read_slice(const std::filesystem::path& file, const Settings& settings) {
  auto instance = dicom::Instance::load(file);
  if (!instance) return instance.error();
  config::ProcessingConfig processing;
  processing.max_image_bytes = settings.max_image_bytes;
  processing.non_image = config::NonImagePolicy::reject;
  auto pixels = prepare_pixels(instance.value(), processing, /*check_length=*/true);
  if (!pixels) return pixels.error();
  if (!pixels->has_value()) return make_error("not_an_image", "no pixel data");
  auto mapper = ModelInputMapper::read(instance->dataset(), **pixels, settings.infer.model);
  if (!mapper) return mapper.error();
  auto frames = frames_of(instance->dataset(), **pixels);
  if (!frames) return frames.error();
  if (frames->empty()) return make_error("invalid_pixel_module", "no frames");
  StackSlice slice;
  slice.sop_instance_uid = instance->identity().sop_instance_uid;
  slice.values = mapper->normalized(frames->front()).clone();
  return slice;
}

nlohmann::json result_json(const std::vector<SeriesFinding>& findings, const std::string& model_sha256,
                           const std::string& details) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& finding : findings) {
    list.push_back({{"label", finding.label}, {"score", finding.score}, {"instances", finding.instances}});
  }
  return {{"findings", std::move(list)}, {"algorithm", {{"model_sha256", model_sha256}, {"details", details}}}};
}

}  // namespace

std::string series_infer_settings(const config::SeriesInferConfig& config, const std::string& table,
                                  std::uint64_t max_image_bytes) {
  const config::InferenceConfig& model = config.model;
  const char* mapping = model.mapping == config::ValueMapping::raw            ? "raw"
                        : model.mapping == config::ValueMapping::fixed_window ? "fixed_window"
                                                                              : "window";
  const nlohmann::ordered_json json = {
      {"table", table},
      {"max_image_bytes", max_image_bytes},
      {"model", std::filesystem::absolute(model.model).string()},
      {"input_size", {model.input_width, model.input_height}},
      {"channels", model.channels},
      {"mapping", mapping},
      {"window_center", model.window_center},
      {"window_width", model.window_width},
      {"scale", model.scale},
      {"mean", model.mean},
      {"std", model.stddev},
      {"labels", model.labels},
      {"threshold", model.threshold},
      {"output", model.output},
      {"threads", model.threads},
      {"layout", config.layout == config::StackLayout::ndhw ? "ndhw" : "ncdhw"},
      {"depth", config.depth}};
  return json.dump(2) + "\n";
}

Status check_series_inference(const std::filesystem::path& settings_path) {
  auto settings = read_settings(settings_path);
  if (!settings) return settings.error();
  auto step = load_step(settings.value());
  if (!step) return step.error();
  return {};
}

Status run_series_inference(const std::filesystem::path& settings_path, const std::filesystem::path& series_json,
                            const std::filesystem::path& result) {
  auto settings = read_settings(settings_path);
  if (!settings) return settings.error();
  auto text = read_limited(series_json, kMaxSeriesJsonBytes);
  if (!text) return text.error();
  const nlohmann::json series = nlohmann::json::parse(text.value(), nullptr, /*allow_exceptions=*/false);
  if (!series.is_object() || !series.contains("instances") || !series["instances"].is_array()) {
    return make_error("invalid_config", "series.json: no instances");
  }
  auto step = load_step(settings.value());
  if (!step) return step.error();

  std::vector<StackSlice> slices;
  for (const nlohmann::json& instance : series["instances"]) {
    if (!instance.is_object() || !instance.contains("file") || !instance["file"].is_string()) {
      return make_error("invalid_config", "series.json: an instance without a file");
    }
    const std::string file = instance["file"].get<std::string>();
    auto slice = read_slice(file, settings.value());
    if (!slice) return make_error(slice.error().code, std::filesystem::path(file).filename().string() + ": " + slice.error().message);
    slices.push_back(std::move(slice).value());
  }
  auto findings = step.value()->run(slices);
  if (!findings) return findings.error();

  const std::size_t depth = step.value()->depth_for(slices.size());
  const std::string order = series.value("order", std::string("arrival"));
  std::string details = "stack order " + order + "; " + std::to_string(slices.size()) + " slice(s)";
  details += depth == slices.size() ? ", depth " + std::to_string(depth) : " resampled to depth " + std::to_string(depth);
  return write_text(result, result_json(findings.value(), step.value()->model_sha256(), details).dump(2) + "\n");
}

Result<SeriesModule> make_series_infer_step(const config::SeriesConfig& series, const config::ProcessingConfig& processing,
                                            std::filesystem::path work_root, const std::string& executable,
                                            const std::string& table) {
  const config::SeriesInferConfig& infer = series.infer;
  const std::string key = table + ".infer";
  const std::string settings = series_infer_settings(infer, key, processing.max_image_bytes);
  config::ExternalModuleConfig command;
  command.command = {executable, "series-infer"};
  command.timeout_s = infer.timeout_s;
  command.memory_mb = infer.memory_mb;

  // The model is loaded and probed in a contained process, as every series will be: never in the node itself.
  std::error_code error;
  std::filesystem::create_directories(work_root, error);
  auto folder = WorkFolder::create(work_root, "series-check");
  if (!folder) return folder.error();
  const auto settings_file = folder.value()->path() / "settings.json";
  if (Status written = write_text(settings_file, settings); !written) return written.error();
  const CommandLimits limits = module_limits(command, processing);
  auto ran = run_contained({executable, "series-infer", settings_file.string()},
                           clean_environment({}, folder.value()->path().string()), folder.value()->path(), limits);
  if (!ran) return make_error("invalid_config", key + ": " + ran.error().message);
  if (Status ended = check_ended(ran.value(), limits, "the model check"); !ended) {
    return make_error("invalid_config", key + ": " + ended.error().message);
  }

  AlgorithmIdentity algorithm;
  algorithm.step = "infer";
  algorithm.name = infer.model.algorithm_name.empty() ? infer.model.model.stem().string() : infer.model.algorithm_name;
  if (algorithm.name.empty()) algorithm.name = "model";
  algorithm.version = infer.model.algorithm_version.empty() ? "unversioned" : infer.model.algorithm_version;
  // What the contained process reports for the bytes it loaded replaces this; until then, the file at start.
  if (auto hash = sha256_of_file(infer.model.model)) algorithm.model_sha256 = hash.value();
  return SeriesModule::builtin(std::move(command), processing, std::move(work_root), std::move(algorithm), settings,
                               "inference_failed");
}

}  // namespace creni::process
