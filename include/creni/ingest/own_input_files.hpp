#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_map>

namespace creni::ingest {

/// Files the node itself placed in INPUT/gateway_<id>/ (SCP arrivals mirrored there after they were recorded),
/// which the folder door must not hash and record a second time. The pipeline adds a file once its job points to
/// it; the folder watcher claims it instead of handing it over (and still takes it should it change later). A file
/// the watcher sees first is simply handed over and recorded as the same file: this is a saving, not a rule.
/// Thread-safe.
class OwnInputFiles {
 public:
  using Clock = std::chrono::steady_clock;

  /// How long an added file waits to be claimed. The watcher claims a file within its quiet window of seeing it;
  /// one it saw before the pipeline added it (the usual case: the mirror appears before its job is recorded) was
  /// handed over already and is never claimed, so every entry has to go by itself.
  static constexpr std::chrono::seconds kKeep{120};

  void add(const std::filesystem::path& file, Clock::time_point now = Clock::now());
  /// True once for a file that was added (which is forgotten then).
  [[nodiscard]] bool claim(const std::string& file);
  /// Files remembered now (added, neither claimed nor expired yet).
  [[nodiscard]] std::size_t size() const;

 private:
  // A burst faster than kKeep can drain must not pile up either: beyond this, start afresh.
  static constexpr std::size_t kMaxRemembered = 100000;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> files_;  // file -> when it was added
  Clock::time_point next_expiry_{};
};

}  // namespace creni::ingest
