#include "creni/process/external_step.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "creni/process/pixel_frames.hpp"
#include "module_run.hpp"

namespace creni::process {

namespace {

constexpr std::size_t kMaxResultBytes = 1 << 20;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("process");
  return named ? named : spdlog::default_logger();
}

std::string settings_json(const std::filesystem::path& folder, const std::string& marker,
                          const std::vector<std::pair<std::string, std::string>>& parameters) {
  const nlohmann::ordered_json settings = {{"contract", 1},
                                           {"input", (folder / "input.dcm").string()},
                                           {"output", (folder / "output.dcm").string()},
                                           {"result", (folder / "result.json").string()},
                                           {"marker", marker},
                                           {"parameters", parameters_object(parameters)}};
  return settings.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}


}  // namespace

Result<std::vector<Finding>> parse_result_json(const std::string& text) {
  auto parsed = parse_module_json(text);
  if (!parsed) return failed("result.json: " + parsed.error().message);
  auto items = finding_items(parsed.value());
  if (!items) return items.error();
  std::vector<Finding> findings;
  for (const FindingItem& entry : items.value()) findings.push_back(entry.finding);
  return findings;
}

ExternalStep::ExternalStep(config::ExternalModuleConfig module, config::ProcessingConfig processing, AlgorithmIdentity algorithm)
    : module_(std::move(module)), processing_(std::move(processing)), algorithm_(std::move(algorithm)),
      limits_(module_limits(module_, processing_)) {}

Status ExternalStep::apply(ProcessingContext& context) {
  auto folder = WorkFolder::create({}, "creni-external");
  if (!folder) return folder.error();
  const std::filesystem::path& work = folder.value()->path();
  const auto input = work / "input.dcm";
  const auto output = work / "output.dcm";
  const auto settings = work / "settings.json";
  const auto result = work / "result.json";

  const dicom::InstanceIdentity before = context.instance.identity();
  const std::string sop_class = context.instance.string_of(DCM_SOPClassUID);
  const std::string sop_instance = context.instance.string_of(DCM_SOPInstanceUID);
  if (Status saved = context.instance.save(input); !saved) return saved;
  if (Status written = write_text(settings, settings_json(work, context.config.marker, module_.parameters)); !written) {
    return written;
  }

  std::vector<std::string> argv = module_.command;
  argv.push_back(input.string());
  argv.push_back(output.string());
  argv.push_back(settings.string());
  auto ran = run_contained(argv, clean_environment(module_.environment, work.string()), work, limits_);
  if (!ran) return ran.error();
  const CommandOutcome& outcome = ran.value();
  if (Status ended = check_ended(outcome, limits_, "external module"); !ended) return ended;

  std::error_code error;
  if (!std::filesystem::is_regular_file(output, error)) {
    return failed(with_tail("external module wrote no output file", outcome.stderr_tail));
  }
  auto returned = dicom::Instance::load(output);
  if (!returned) return failed(with_tail("external module output is not valid DICOM (" + returned.error().describe() + ")", outcome.stderr_tail));
  // The folder goes away with this step: nothing may stay on disk for later (DCMTK loads large values lazily).
  if (returned->file().loadAllDataIntoMemory().bad()) {
    return failed(with_tail("external module output cannot be read completely", outcome.stderr_tail));
  }
  if (returned->string_of(DCM_SOPInstanceUID) != sop_instance || returned->string_of(DCM_SOPClassUID) != sop_class) {
    return failed(with_tail("external module output is another instance (SOP Class or SOP Instance UID differs)", outcome.stderr_tail));
  }

  std::vector<Finding> found;
  if (std::filesystem::exists(result, error)) {
    auto text = read_limited(result, kMaxResultBytes);
    if (!text) return failed(with_tail(text.error().message, outcome.stderr_tail));
    auto parsed = parse_result_json(text.value());
    if (!parsed) return failed(with_tail(parsed.error().message, outcome.stderr_tail));
    found = std::move(parsed).value();
  }

  const auto old_rows = context.pixels ? context.pixels->rows : 0;
  const auto old_columns = context.pixels ? context.pixels->columns : 0;
  context.instance = std::move(returned).value();
  auto pixels = prepare_pixels(context.instance, processing_, true);
  if (!pixels) return failed("external module output: " + pixels.error().describe());
  context.pixels = pixels.value();
  // Regions found before belong to the old geometry; keep them only if it did not change.
  if (!context.pixels || context.pixels->rows != old_rows || context.pixels->columns != old_columns) context.masks.clear();

  context.findings.insert(context.findings.end(), found.begin(), found.end());
  logger()->debug("sop={} external: exit 0 in {:.2f} s, {}", before.sop_instance_uid, outcome.seconds, findings_text(found));
  if (Status recorded = record_provenance(context.instance.dataset(), algorithm_, context.config.marker, found); !recorded) {
    return recorded;
  }
  context.derivation_notes.push_back(derivation_note(algorithm_));
  return {};
}

Result<std::unique_ptr<Processor>> make_external_step(const config::ProcessingConfig& processing,
                                                      const config::InferenceConfig& inference) {
  const config::ExternalModuleConfig& module = inference.external;
  if (Status usable = check_module_command(module, "inference.external"); !usable) return usable.error();
  AlgorithmIdentity algorithm;
  algorithm.step = "external";
  algorithm.name = inference.algorithm_name.empty() ? std::filesystem::path(module.command.back()).stem().string()
                                                    : inference.algorithm_name;
  if (algorithm.name.empty()) algorithm.name = "external-module";
  algorithm.version = inference.algorithm_version.empty() ? "unversioned" : inference.algorithm_version;
  return std::unique_ptr<Processor>(std::make_unique<ExternalStep>(module, processing, std::move(algorithm)));
}

}  // namespace creni::process
