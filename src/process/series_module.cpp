#include "creni/process/series_module.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>
#include <sstream>

#include "creni/common/content_hash.hpp"
#include "module_run.hpp"

#include <nlohmann/json.hpp>

namespace creni::process {

namespace {

constexpr std::size_t kMaxResultBytes = 1 << 20;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("series");
  return named ? named : spdlog::default_logger();
}

// The numbers of a backslash-separated DICOM DS value; empty when any is not a finite number.
std::vector<double> numbers_of(const std::string& text) {
  std::vector<double> values;
  std::stringstream parts(text);
  std::string part;
  while (std::getline(parts, part, '\\')) {
    char* end = nullptr;
    const double value = std::strtod(part.c_str(), &end);
    if (end == part.c_str() || !std::isfinite(value)) return {};
    values.push_back(value);
  }
  return values;
}

// A DS value of `count` numbers as a JSON array, else null.
nlohmann::ordered_json json_numbers(const std::string& text, std::size_t count) {
  const auto values = numbers_of(text);
  if (values.size() != count) return nullptr;
  return values;
}

// An IS value as a non-negative JSON integer, else null.
nlohmann::ordered_json json_count(const std::string& text) {
  const auto values = numbers_of(text);
  if (values.size() != 1 || values[0] < 0) return nullptr;
  return static_cast<long long>(values[0]);
}

std::string series_json(const SeriesModuleInput& input, const std::vector<SeriesModuleInstance>& laid_out,
                        StackOrder order, const std::vector<double>& positions, const std::filesystem::path& folder,
                        const std::vector<std::pair<std::string, std::string>>& parameters) {
  nlohmann::ordered_json instances = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < laid_out.size(); ++i) {
    const SeriesModuleInstance& instance = laid_out[i];
    instances.push_back({{"file", instance.file.string()},
                         {"sop_class_uid", instance.sop_class_uid},
                         {"sop_instance_uid", instance.sop_instance_uid},
                         {"instance_number", json_count(instance.instance_number)},
                         {"rows", json_count(instance.rows)},
                         {"columns", json_count(instance.columns)},
                         {"image_position", json_numbers(instance.image_position, 3)},
                         {"image_orientation", json_numbers(instance.image_orientation, 6)},
                         {"pixel_spacing", json_numbers(instance.pixel_spacing, 2)},
                         {"slice_position", positions.empty() ? nlohmann::ordered_json(nullptr)
                                                              : nlohmann::ordered_json(positions[i])}});
  }
  const nlohmann::ordered_json settings = {{"contract", 1},
                                           {"gateway", input.gateway_id},
                                           {"study_instance_uid", input.study_instance_uid},
                                           {"series_instance_uid", input.series_instance_uid},
                                           {"run", input.run},
                                           {"count", laid_out.size()},
                                           {"order", to_string(order)},
                                           {"instances_folder", (folder / "instances").string()},
                                           {"result", (folder / "result.json").string()},
                                           {"parameters", parameters_object(parameters)},
                                           {"instances", std::move(instances)}};
  return settings.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// Copies (never links: a module writing to its input must not change the node's files) in stack order.
Result<std::vector<SeriesModuleInstance>> lay_out(const std::vector<SeriesModuleInstance>& ordered,
                                                  const std::filesystem::path& folder) {
  std::error_code error;
  std::filesystem::create_directory(folder, error);
  if (error) return make_error("io_error", "cannot create " + folder.string() + ": " + error.message());
  std::vector<SeriesModuleInstance> laid_out;
  for (std::size_t i = 0; i < ordered.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "%04zu.dcm", i + 1);
    SeriesModuleInstance copy = ordered[i];
    copy.file = folder / name;
    std::filesystem::copy_file(ordered[i].file, copy.file, error);
    if (error) return make_error("io_error", "cannot copy " + ordered[i].file.string() + ": " + error.message());
    laid_out.push_back(std::move(copy));
  }
  return laid_out;
}

Result<std::vector<std::string>> instance_list(const nlohmann::json& item, const std::string& where,
                                               const std::set<std::string>& known) {
  std::vector<std::string> instances;
  const auto list = item.find("instances");
  if (list == item.end()) return instances;
  if (!list->is_array()) return failed(where + ".instances must be an array of SOP Instance UIDs");
  for (const nlohmann::json& uid : *list) {
    if (!uid.is_string() || known.count(uid.get<std::string>()) == 0) {
      return failed(where + ".instances names an instance that is not in the series");
    }
    instances.push_back(uid.get<std::string>());
  }
  return instances;
}

// What the node's own series step says about how it ran: the hash of the model it loaded, and details.
void reported_algorithm(const std::string& text, AlgorithmIdentity& algorithm) {
  const auto parsed = parse_module_json(text);
  if (!parsed) return;
  const auto found = parsed->find("algorithm");
  if (found == parsed->end() || !found->is_object()) return;
  const auto hash = found->find("model_sha256");
  if (hash != found->end() && hash->is_string()) algorithm.model_sha256 = hash->get<std::string>();
  const auto details = found->find("details");
  if (details != found->end() && details->is_string()) algorithm.details = details->get<std::string>();
}

}  // namespace

std::vector<double> slice_positions(const std::vector<SeriesModuleInstance>& instances) {
  std::vector<double> positions;
  for (const auto& instance : instances) {
    const auto position = numbers_of(instance.image_position);
    const auto orientation = numbers_of(instance.image_orientation);
    if (position.size() != 3 || orientation.size() != 6) return {};
    // The normal of the image plane: row direction x column direction.
    const double nx = orientation[1] * orientation[5] - orientation[2] * orientation[4];
    const double ny = orientation[2] * orientation[3] - orientation[0] * orientation[5];
    const double nz = orientation[0] * orientation[4] - orientation[1] * orientation[3];
    positions.push_back(position[0] * nx + position[1] * ny + position[2] * nz);
  }
  return positions;
}

std::string to_string(StackOrder order) {
  switch (order) {
    case StackOrder::slice_position: return "slice_position";
    case StackOrder::instance_number: return "instance_number";
    case StackOrder::arrival: break;
  }
  return "arrival";
}

SeriesStack stack_of(std::vector<SeriesModuleInstance> instances) {
  std::vector<double> keys = slice_positions(instances);
  StackOrder order = StackOrder::slice_position;
  if (keys.empty()) {
    order = StackOrder::instance_number;
    for (const auto& instance : instances) {
      const auto number = numbers_of(instance.instance_number);
      if (number.size() != 1) {
        SeriesStack as_arrived;
        as_arrived.instances = std::move(instances);
        as_arrived.order = StackOrder::arrival;
        return as_arrived;
      }
      keys.push_back(number[0]);
    }
  }
  std::vector<std::size_t> indices(instances.size());
  std::iota(indices.begin(), indices.end(), 0);
  std::stable_sort(indices.begin(), indices.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  SeriesStack stack;
  stack.order = order;
  for (const std::size_t i : indices) stack.instances.push_back(std::move(instances[i]));
  return stack;
}

Result<std::vector<SeriesFinding>> parse_series_result_json(const std::string& text,
                                                            const std::vector<std::string>& known_instances) {
  auto parsed = parse_module_json(text);
  if (!parsed) return failed("result.json: " + parsed.error().message);
  auto items = finding_items(parsed.value());
  if (!items) return items.error();
  const std::set<std::string> known(known_instances.begin(), known_instances.end());
  std::vector<SeriesFinding> findings;
  for (const FindingItem& entry : items.value()) {
    SeriesFinding finding{entry.finding.label, entry.finding.score, {}, {}};
    auto instances = instance_list(*entry.item, entry.where, known);
    if (!instances) return instances.error();
    finding.instances = std::move(instances).value();
    if (const auto point = entry.item->find("point"); point != entry.item->end()) {
      if (!point->is_array() || point->size() != 2 || finding.instances.empty() || !(*point)[0].is_number() ||
          !(*point)[1].is_number()) {
        return failed(entry.where + ".point must be [column, row] and needs \"instances\"");
      }
      finding.point = {(*point)[0].get<double>(), (*point)[1].get<double>()};
    }
    findings.push_back(std::move(finding));
  }
  return findings;
}

SeriesModule::SeriesModule(config::ExternalModuleConfig module, config::ProcessingConfig processing,
                           std::filesystem::path work_root)
    : module_(std::move(module)), processing_(std::move(processing)), work_root_(std::move(work_root)) {}

Result<SeriesModule> SeriesModule::make(const config::SeriesConfig& series, const config::ProcessingConfig& processing,
                                        std::filesystem::path work_root) {
  if (Status usable = check_module_command(series.external, "series.external"); !usable) return usable.error();
  SeriesModule module(series.external, processing, std::move(work_root));
  const std::filesystem::path program = module.module_.command.back();
  AlgorithmIdentity& algorithm = module.algorithm_;
  algorithm.step = "external";
  algorithm.name = program.stem().string().empty() ? "series-module" : program.stem().string();
  algorithm.version = "unversioned";
  for (const auto& [key, value] : module.module_.parameters) {
    if (key == "version" && !value.empty()) algorithm.version = value;
  }
  // The module's own file identifies what ran, as a model's hash does for "infer".
  if (auto hash = sha256_of_file(program)) algorithm.model_sha256 = hash.value();
  return module;
}

SeriesModule SeriesModule::builtin(config::ExternalModuleConfig module, config::ProcessingConfig processing,
                                   std::filesystem::path work_root, AlgorithmIdentity algorithm, std::string settings,
                                   std::string failure_code) {
  SeriesModule made(std::move(module), std::move(processing), std::move(work_root));
  made.algorithm_ = std::move(algorithm);
  made.settings_ = std::move(settings);
  made.failure_code_ = std::move(failure_code);
  return made;
}

Result<SeriesStepResult> SeriesModule::run(const SeriesModuleInput& input) const {
  std::error_code error;
  if (!work_root_.empty()) std::filesystem::create_directories(work_root_, error);
  auto folder = WorkFolder::create(work_root_, "series");
  if (!folder) return folder.error();
  auto result = run_in(folder.value()->path(), input);
  if (!result && result.error().code == "external_failed" && failure_code_ != "external_failed") {
    return make_error(failure_code_, result.error().message);
  }
  return result;
}

Result<SeriesStepResult> SeriesModule::run_in(const std::filesystem::path& work, const SeriesModuleInput& input) const {
  SeriesStack stack = stack_of(input.instances);
  auto laid_out = lay_out(stack.instances, work / "instances");
  if (!laid_out) return laid_out.error();
  const auto settings = work / "series.json";
  const auto result = work / "result.json";
  if (Status written = write_text(settings, series_json(input, laid_out.value(), stack.order,
                                                        slice_positions(laid_out.value()), work, module_.parameters));
      !written) {
    return written.error();
  }

  std::vector<std::string> argv = module_.command;
  if (!settings_.empty()) {
    const auto own_settings = work / "settings.json";
    if (Status written = write_text(own_settings, settings_); !written) return written.error();
    argv.push_back(own_settings.string());
  }
  argv.push_back((work / "instances").string());
  argv.push_back(settings.string());
  argv.push_back(result.string());
  const CommandLimits limits = module_limits(module_, processing_);
  auto ran = run_contained(argv, clean_environment(module_.environment, work.string()), work, limits);
  if (!ran) return ran.error();
  const std::string who = settings_.empty() ? "series module" : "series step " + algorithm_.step;
  if (Status ended = check_ended(ran.value(), limits, who); !ended) return ended.error();
  std::error_code error;
  if (!std::filesystem::exists(result, error)) return failed(with_tail(who + " wrote no result.json", ran->stderr_tail));
  auto text = read_limited(result, kMaxResultBytes);
  if (!text) return failed(with_tail(text.error().message, ran->stderr_tail));
  std::vector<std::string> known;
  for (const auto& instance : input.instances) known.push_back(instance.sop_instance_uid);
  auto findings = parse_series_result_json(text.value(), known);
  if (!findings) return failed(with_tail(findings.error().message, ran->stderr_tail));
  SeriesStepResult step;
  step.findings = std::move(findings).value();
  step.algorithm = algorithm_;
  step.algorithm.details = "stack order " + to_string(stack.order);
  if (!settings_.empty()) reported_algorithm(text.value(), step.algorithm);
  logger()->debug("series={} run {} {}: exit 0 in {:.2f} s, {} finding(s)", input.series_instance_uid, input.run, who,
                  ran->seconds, step.findings.size());
  return step;
}

}  // namespace creni::process
