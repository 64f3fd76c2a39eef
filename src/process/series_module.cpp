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
                        const std::vector<double>& positions, const std::filesystem::path& folder,
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

std::vector<SeriesModuleInstance> ordered_as_stack(std::vector<SeriesModuleInstance> instances) {
  std::vector<double> keys = slice_positions(instances);
  if (keys.empty()) {
    for (const auto& instance : instances) {
      const auto number = numbers_of(instance.instance_number);
      if (number.size() != 1) return instances;
      keys.push_back(number[0]);
    }
  }
  std::vector<std::size_t> order(instances.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  std::vector<SeriesModuleInstance> ordered;
  for (const std::size_t i : order) ordered.push_back(std::move(instances[i]));
  return ordered;
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
    : module_(std::move(module)), processing_(std::move(processing)), work_root_(std::move(work_root)) {
  const std::filesystem::path program = module_.command.back();
  algorithm_.step = "external";
  algorithm_.name = program.stem().string().empty() ? "series-module" : program.stem().string();
  algorithm_.version = "unversioned";
  for (const auto& [key, value] : module_.parameters) {
    if (key == "version" && !value.empty()) algorithm_.version = value;
  }
  // The module's own file identifies what ran, as a model's hash does for "infer".
  if (auto hash = sha256_of_file(program)) algorithm_.model_sha256 = hash.value();
}

Result<SeriesModule> SeriesModule::make(const config::SeriesConfig& series, const config::ProcessingConfig& processing,
                                        std::filesystem::path work_root) {
  if (Status usable = check_module_command(series.external, "series.external"); !usable) return usable.error();
  return SeriesModule(series.external, processing, std::move(work_root));
}

Result<std::vector<SeriesFinding>> SeriesModule::run(const SeriesModuleInput& input) const {
  std::error_code error;
  if (!work_root_.empty()) std::filesystem::create_directories(work_root_, error);
  auto folder = WorkFolder::create(work_root_, "series");
  if (!folder) return folder.error();
  const std::filesystem::path& work = folder.value()->path();
  auto laid_out = lay_out(ordered_as_stack(input.instances), work / "instances");
  if (!laid_out) return laid_out.error();
  const auto settings = work / "series.json";
  const auto result = work / "result.json";
  if (Status written = write_text(settings, series_json(input, laid_out.value(), slice_positions(laid_out.value()), work,
                                                        module_.parameters));
      !written) {
    return written.error();
  }

  std::vector<std::string> argv = module_.command;
  argv.push_back((work / "instances").string());
  argv.push_back(settings.string());
  argv.push_back(result.string());
  const CommandLimits limits = module_limits(module_, processing_);
  auto ran = run_contained(argv, clean_environment(module_.environment, work.string()), work, limits);
  if (!ran) return ran.error();
  if (Status ended = check_ended(ran.value(), limits, "series module"); !ended) return ended.error();
  if (!std::filesystem::exists(result, error)) return failed(with_tail("series module wrote no result.json", ran->stderr_tail));
  auto text = read_limited(result, kMaxResultBytes);
  if (!text) return failed(with_tail(text.error().message, ran->stderr_tail));
  std::vector<std::string> known;
  for (const auto& instance : input.instances) known.push_back(instance.sop_instance_uid);
  auto findings = parse_series_result_json(text.value(), known);
  if (!findings) return failed(with_tail(findings.error().message, ran->stderr_tail));
  logger()->debug("series={} run {} module: exit 0 in {:.2f} s, {} finding(s)", input.series_instance_uid, input.run,
                  ran->seconds, findings->size());
  return findings;
}

}  // namespace creni::process
