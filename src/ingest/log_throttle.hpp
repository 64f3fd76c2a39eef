#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace creni::ingest {

/// Keeps messages that a peer can trigger once per connection (refused connections, failed handshakes, rejected
/// associations) from flooding the log: per kind of message, the first `burst` in each `interval` are written,
/// the rest are counted, and one line "suppressed N similar message(s) (<kind>) in the last S s" follows when the
/// interval is over (at the next message of that kind or the next flush()). Thread-safe.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  LogThrottle(std::shared_ptr<spdlog::logger> logger, int burst = 5,
              std::chrono::milliseconds interval = std::chrono::seconds(10));

  /// True when a message of `kind` may be written now; false when it is to be suppressed (and counted).
  [[nodiscard]] bool admit(const std::string& kind, Clock::time_point now = Clock::now());

  /// Writes the summary of every kind whose interval is over. Call now and then (a loop's idle tick).
  void flush(Clock::time_point now = Clock::now());

 private:
  struct Window {
    Clock::time_point started;
    int written = 0;
    long suppressed = 0;
  };
  void close_window(const std::string& kind, Window& window, Clock::time_point now);

  std::shared_ptr<spdlog::logger> logger_;
  int burst_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::map<std::string, Window> windows_;
};

}  // namespace creni::ingest
