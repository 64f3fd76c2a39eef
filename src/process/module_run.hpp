#pragma once

// What the per-image and the series external steps share: a private work folder, a clean environment, limits,
// and reading what a module left behind. Private to the process module.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/process/contained_command.hpp"
#include "creni/process/processor.hpp"

namespace creni::process {

/// Error "external_failed" with `why`.
[[nodiscard]] Error failed(const std::string& why);

/// `why` with the module's own words (its stderr tail) appended, so that operators see why it failed.
[[nodiscard]] std::string with_tail(const std::string& why, const std::string& stderr_tail);

/// A private folder (mode 0700), removed with everything in it when this object goes away.
class WorkFolder {
 public:
  /// Creates `<base>/<prefix>-XXXXXX`; an empty `base` is the temporary directory. Error "io_error".
  [[nodiscard]] static Result<std::unique_ptr<WorkFolder>> create(const std::filesystem::path& base, const std::string& prefix);
  ~WorkFolder();
  WorkFolder(const WorkFolder&) = delete;
  WorkFolder& operator=(const WorkFolder&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  explicit WorkFolder(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

/// Writes `text` to `path` (replacing it). Error "io_error".
[[nodiscard]] Status write_text(const std::filesystem::path& path, const std::string& text);

/// PATH, HOME and TMPDIR (the work folder), LANG, then `extra` ("NAME=value", replacing a default of that name).
[[nodiscard]] std::vector<std::string> clean_environment(const std::vector<std::string>& extra, const std::string& folder);

/// The file's text, at most `limit` bytes. Error "external_failed" when unreadable or larger.
[[nodiscard]] Result<std::string> read_limited(const std::filesystem::path& path, std::size_t limit);

/// The module's limits: its own timeout_s/memory_mb, else [processing] job_timeout_s/worker_memory_mb.
[[nodiscard]] CommandLimits module_limits(const config::ExternalModuleConfig& module,
                                          const config::ProcessingConfig& processing);

/// "invalid_config" naming `key` unless command[0] is an absolute path to an executable file.
[[nodiscard]] Status check_module_command(const config::ExternalModuleConfig& module, const std::string& key);

/// OK when the module exited with status 0; else "external_failed" saying how it ended (timeout, signal, status).
[[nodiscard]] Status check_ended(const CommandOutcome& outcome, const CommandLimits& limits, const std::string& who);

/// A finding label: 1-64 printable ASCII characters without backslash (it ends up in LO values and burned in).
[[nodiscard]] bool is_finding_label(const std::string& label);

/// One checked entry of result.json's "findings": the object (for further keys) and its label and score.
struct FindingItem {
  const nlohmann::json* item;
  std::string where;  ///< "result.json: findings[i]", for messages about further keys
  Finding finding;
};

/// A module's result file as JSON: RFC 8259 (valid UTF-8), at most 32 levels deep (result.json is small and flat;
/// anything nested deeper is not a result file). Error "invalid_json".
[[nodiscard]] Result<nlohmann::json> parse_module_json(const std::string& text);

/// The entries of a parsed result.json ({"findings": [{"label": "x", "score": 0.9, ...}]}): at most 64, each an
/// object with a label (is_finding_label) and a score 0..1. Points into `root`. Error "external_failed".
[[nodiscard]] Result<std::vector<FindingItem>> finding_items(const nlohmann::json& root);

/// A JSON object of string parameters, in their configured order.
[[nodiscard]] nlohmann::ordered_json parameters_object(const std::vector<std::pair<std::string, std::string>>& parameters);

}  // namespace creni::process
