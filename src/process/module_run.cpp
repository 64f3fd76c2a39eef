#include "module_run.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>


namespace creni::process {

Error failed(const std::string& why) { return make_error("external_failed", why); }

std::string with_tail(const std::string& why, const std::string& stderr_tail) {
  const std::string tail = printable_tail(stderr_tail);
  return tail.empty() ? why + " (stderr empty)" : why + "; stderr: " + tail;
}

Result<std::unique_ptr<WorkFolder>> WorkFolder::create(const std::filesystem::path& base, const std::string& prefix) {
  std::error_code error;
  const auto parent = base.empty() ? std::filesystem::temp_directory_path(error) : base;
  if (error) return make_error("io_error", "no temporary directory: " + error.message());
  std::string pattern = (parent / (prefix + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) return make_error("io_error", "cannot create " + pattern + ": " + std::strerror(errno));
  return std::unique_ptr<WorkFolder>(new WorkFolder(pattern));
}

WorkFolder::~WorkFolder() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Status write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return make_error("io_error", "cannot write " + path.string());
  return {};
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

CommandLimits module_limits(const config::ExternalModuleConfig& module, const config::ProcessingConfig& processing) {
  CommandLimits limits;
  const int timeout_s = module.timeout_s > 0 ? module.timeout_s : processing.job_timeout_s;
  const std::uint64_t memory_mb = module.memory_mb > 0 ? module.memory_mb : processing.worker_memory_mb;
  limits.timeout = std::chrono::seconds(timeout_s);
  limits.memory_bytes = memory_mb * 1024 * 1024;
  return limits;
}

Status check_module_command(const config::ExternalModuleConfig& module, const std::string& key) {
  if (module.command.empty()) return make_error("invalid_config", key + ".command: required by step 'external'");
  const std::filesystem::path program = module.command.front();
  if (!program.is_absolute()) return make_error("invalid_config", key + ".command[0]: must be an absolute path");
  std::error_code error;
  if (!std::filesystem::is_regular_file(program, error) || ::access(program.c_str(), X_OK) != 0) {
    return make_error("invalid_config", key + ".command[0]: not an executable file: " + program.string());
  }
  return {};
}

Status check_ended(const CommandOutcome& outcome, const CommandLimits& limits, const std::string& who) {
  switch (outcome.end) {
    case CommandOutcome::End::timed_out:
      return failed(with_tail(who + " timed out after " + std::to_string(limits.timeout.count() / 1000) + " s",
                              outcome.stderr_tail));
    case CommandOutcome::End::signaled:
      return failed(with_tail(who + " killed by signal " + std::to_string(outcome.code) +
                                  (outcome.code == SIGKILL || outcome.code == SIGSEGV ? " (memory limit?)" : ""),
                              outcome.stderr_tail));
    case CommandOutcome::End::exited:
      if (outcome.code != 0) return failed(with_tail(who + " exited with status " + std::to_string(outcome.code), outcome.stderr_tail));
      break;
  }
  return {};
}

bool is_finding_label(const std::string& label) {
  if (label.empty() || label.size() > 64) return false;
  return std::all_of(label.begin(), label.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e && ch != '\\'; });
}

Result<nlohmann::json> parse_module_json(const std::string& text) {
  constexpr int kMaxJsonDepth = 32;
  bool too_deep = false;
  const nlohmann::json::parser_callback_t depth_limit = [&too_deep](int depth, nlohmann::json::parse_event_t,
                                                                    nlohmann::json&) {
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

Result<std::vector<FindingItem>> finding_items(const nlohmann::json& root) {
  constexpr std::size_t kMaxFindings = 64;
  if (!root.is_object()) return failed("result.json: the top level must be an object");
  const auto list = root.find("findings");
  if (list == root.end()) return failed("result.json: no \"findings\" array");
  if (!list->is_array()) return failed("result.json: \"findings\" must be an array");
  if (list->size() > kMaxFindings) return failed("result.json: more than " + std::to_string(kMaxFindings) + " findings");
  std::vector<FindingItem> items;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const nlohmann::json& item = (*list)[i];
    const std::string where = "result.json: findings[" + std::to_string(i) + "]";
    if (!item.is_object()) return failed(where + " must be an object");
    const auto label = item.find("label");
    const auto score = item.find("score");
    if (label == item.end() || !label->is_string() || !is_finding_label(label->get<std::string>())) {
      return failed(where + ".label must be 1-64 printable ASCII characters without backslash");
    }
    if (score == item.end() || !score->is_number() || !(score->get<double>() >= 0.0 && score->get<double>() <= 1.0)) {
      return failed(where + ".score must be a number between 0 and 1");
    }
    items.push_back(FindingItem{&item, where, Finding{label->get<std::string>(), score->get<double>()}});
  }
  return items;
}

nlohmann::ordered_json parameters_object(const std::vector<std::pair<std::string, std::string>>& parameters) {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (const auto& [name, value] : parameters) object[name] = value;
  return object;
}

}  // namespace creni::process
