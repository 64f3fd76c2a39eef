#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace creni::ingest {

/// Files the folder door saw and did not take, so that nothing is ignored without a word: each (path, reason) is
/// logged once, with at most `max_lines_per_minute` lines a minute (the rest are summed up in one line when the
/// minute is over), and counted by reason for `status`. Reasons: "outside_gateway_folder" (in INPUT itself or in a
/// folder not named gateway_<id>), "not_regular_file" (FIFO, device, socket), "name_too_long", "unreadable".
/// Thread-safe (the watcher notes, the status thread reads).
class FilesNotTaken {
 public:
  explicit FilesNotTaken(int max_lines_per_minute = 20) : max_lines_per_minute_(max_lines_per_minute) {}

  /// Records that `path` was not taken for `reason`; logs and counts it the first time only. Returns whether it
  /// was new.
  bool note(const std::string& path, std::string_view reason, std::string_view detail = {});
  /// The file is gone (or was taken after all): a later file under the same name is noted again.
  void forget(const std::string& path);
  /// Forgets every noted path that no longer exists (run with each rescan, so that files that come and go outside
  /// the gateway folders do not pile up here).
  void forget_missing();

  /// Distinct files not taken since start, all reasons.
  [[nodiscard]] std::uint64_t total() const;
  /// Distinct files not taken since start, by reason.
  [[nodiscard]] std::map<std::string, std::uint64_t> by_reason() const;

 private:
  using Clock = std::chrono::steady_clock;
  void log_line(const std::string& path, std::string_view reason, std::string_view detail);

  const int max_lines_per_minute_;
  mutable std::mutex mutex_;
  std::set<std::pair<std::string, std::string>> noted_;
  std::map<std::string, std::uint64_t> counts_;
  std::uint64_t total_ = 0;
  Clock::time_point minute_start_{};
  int lines_this_minute_ = 0;
  std::uint64_t suppressed_ = 0;
};

}  // namespace creni::ingest
