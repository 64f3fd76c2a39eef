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

namespace creni::process {

namespace {

constexpr std::size_t kMaxResultBytes = 1 << 20;
constexpr std::size_t kMaxFindings = 64;
constexpr std::size_t kMaxLabel = 64;
// result.json is small and flat; anything nested deeper is not a result file.
constexpr int kMaxJsonDepth = 32;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("process");
  return named ? named : spdlog::default_logger();
}

Error failed(const std::string& why) { return make_error("external_failed", why); }

// The module's own words, appended to every rejection so that operators see why it failed.
std::string with_tail(const std::string& why, const std::string& stderr_tail) {
  const std::string tail = printable_tail(stderr_tail);
  return tail.empty() ? why + " (stderr empty)" : why + "; stderr: " + tail;
}

// A private folder for one image, removed with everything in it when the step is done.
class WorkFolder {
 public:
  static Result<std::unique_ptr<WorkFolder>> create() {
    std::error_code error;
    const auto base = std::filesystem::temp_directory_path(error);
    if (error) return make_error("io_error", "no temporary directory: " + error.message());
    std::string pattern = (base / "creni-external-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return make_error("io_error", "cannot create " + pattern + ": " + std::strerror(errno));
    return std::unique_ptr<WorkFolder>(new WorkFolder(pattern));
  }
  ~WorkFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  WorkFolder(const WorkFolder&) = delete;
  WorkFolder& operator=(const WorkFolder&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  explicit WorkFolder(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

Status write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error("io_error", "cannot write " + path.string());
  return {};
}

std::string settings_json(const std::filesystem::path& folder, const std::string& marker,
                          const std::vector<std::pair<std::string, std::string>>& parameters) {
  nlohmann::ordered_json settings = {{"contract", 1},
                                     {"input", (folder / "input.dcm").string()},
                                     {"output", (folder / "output.dcm").string()},
                                     {"result", (folder / "result.json").string()},
                                     {"marker", marker},
                                     {"parameters", nlohmann::ordered_json::object()}};
  for (const auto& [name, value] : parameters) settings["parameters"][name] = value;
  return settings.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

// The module's result file as JSON: RFC 8259 (valid UTF-8), at most kMaxJsonDepth deep. Error "invalid_json".
Result<nlohmann::json> parse_json(const std::string& text) {
  bool too_deep = false;
  const nlohmann::json::parser_callback_t depth_limit = [&too_deep](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    too_deep = too_deep || depth > kMaxJsonDepth;
    return !too_deep;
  };
  try {
    nlohmann::json parsed = nlohmann::json::parse(text, depth_limit);
    if (too_deep) return make_error("invalid_json", "nested more than " + std::to_string(kMaxJsonDepth) + " deep");
    return parsed;
  } catch (const nlohmann::json::parse_error& e) {
    return make_error("invalid_json", "not valid JSON at byte " + std::to_string(e.byte));
  }
}

std::vector<std::string> clean_environment(const std::vector<std::string>& extra, const std::string& folder) {
  std::vector<std::string> environment = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + folder, "TMPDIR=" + folder,
                                          "LANG=C.UTF-8"};
  for (const std::string& entry : extra) {
    const std::string name = entry.substr(0, entry.find('=') + 1);
    environment.erase(std::remove_if(environment.begin(), environment.end(),
                                     [&](const std::string& existing) { return existing.rfind(name, 0) == 0; }),
                      environment.end());
    environment.push_back(entry);
  }
  return environment;
}

Result<std::string> read_limited(const std::filesystem::path& path, std::size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return failed("cannot read " + path.filename().string());
  std::string text;
  text.resize(limit + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > limit) return failed(path.filename().string() + " is larger than " + std::to_string(limit) + " bytes");
  return text;
}

bool is_plain_label(const std::string& label) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  return std::all_of(label.begin(), label.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e && ch != '\\'; });
}

}  // namespace

Result<std::vector<Finding>> parse_result_json(const std::string& text) {
  auto parsed = parse_json(text);
  if (!parsed) return failed("result.json: " + parsed.error().message);
  if (!parsed->is_object()) return failed("result.json: the top level must be an object");
  const auto list = parsed->find("findings");
  if (list == parsed->end()) return failed("result.json: no \"findings\" array");
  if (!list->is_array()) return failed("result.json: \"findings\" must be an array");
  if (list->size() > kMaxFindings) return failed("result.json: more than " + std::to_string(kMaxFindings) + " findings");
  std::vector<Finding> findings;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = "result.json: findings[" + std::to_string(i) + "]";
    if (!item.is_object()) return failed(where + " must be an object");
    const auto label = item.find("label");
    const auto score = item.find("score");
    if (label == item.end() || !label->is_string() || !is_plain_label(label->get<std::string>())) {
      return failed(where + ".label must be 1-64 printable ASCII characters without backslash");
    }
    if (score == item.end() || !score->is_number() || !(score->get<double>() >= 0.0 && score->get<double>() <= 1.0)) {
      return failed(where + ".score must be a number between 0 and 1");
    }
    findings.push_back(Finding{label->get<std::string>(), score->get<double>()});
  }
  return findings;
}

ExternalStep::ExternalStep(config::ExternalModuleConfig module, config::ProcessingConfig processing, AlgorithmIdentity algorithm)
    : module_(std::move(module)), processing_(std::move(processing)), algorithm_(std::move(algorithm)) {
  const int timeout_s = module_.timeout_s > 0 ? module_.timeout_s : processing_.job_timeout_s;
  const std::uint64_t memory_mb = module_.memory_mb > 0 ? module_.memory_mb : processing_.worker_memory_mb;
  limits_.timeout = std::chrono::seconds(timeout_s);
  limits_.memory_bytes = memory_mb * 1024 * 1024;
}

Status ExternalStep::apply(ProcessingContext& context) {
  auto folder = WorkFolder::create();
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
  switch (outcome.end) {
    case CommandOutcome::End::timed_out:
      return failed(with_tail("external module timed out after " + std::to_string(limits_.timeout.count() / 1000) + " s",
                              outcome.stderr_tail));
    case CommandOutcome::End::signaled:
      return failed(with_tail("external module killed by signal " + std::to_string(outcome.code) +
                                  (outcome.code == SIGKILL || outcome.code == SIGSEGV ? " (memory limit?)" : ""),
                              outcome.stderr_tail));
    case CommandOutcome::End::exited:
      if (outcome.code != 0) {
        return failed(with_tail("external module exited with status " + std::to_string(outcome.code), outcome.stderr_tail));
      }
      break;
  }

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
  if (module.command.empty()) return make_error("invalid_config", "inference.external.command: required by step 'external'");
  const std::filesystem::path program = module.command.front();
  if (!program.is_absolute()) return make_error("invalid_config", "inference.external.command[0]: must be an absolute path");
  std::error_code error;
  if (!std::filesystem::is_regular_file(program, error) || ::access(program.c_str(), X_OK) != 0) {
    return make_error("invalid_config", "inference.external.command[0]: not an executable file: " + program.string());
  }
  AlgorithmIdentity algorithm;
  algorithm.step = "external";
  algorithm.name = inference.algorithm_name.empty() ? std::filesystem::path(module.command.back()).stem().string()
                                                    : inference.algorithm_name;
  if (algorithm.name.empty()) algorithm.name = "external-module";
  algorithm.version = inference.algorithm_version.empty() ? "unversioned" : inference.algorithm_version;
  return std::unique_ptr<Processor>(std::make_unique<ExternalStep>(module, processing, std::move(algorithm)));
}

}  // namespace creni::process
