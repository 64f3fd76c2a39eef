#include "log_throttle.hpp"

namespace creni::ingest {

LogThrottle::LogThrottle(std::shared_ptr<spdlog::logger> logger, int burst, std::chrono::milliseconds interval)
    : logger_(std::move(logger)), burst_(burst), interval_(interval) {}

bool LogThrottle::admit(const std::string& kind, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  auto [it, fresh] = windows_.try_emplace(kind, Window{now, 0, 0});
  Window& window = it->second;
  if (!fresh && now - window.started >= interval_) close_window(kind, window, now);
  if (window.written < burst_) {
    ++window.written;
    return true;
  }
  ++window.suppressed;
  return false;
}

void LogThrottle::flush(Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (now - it->second.started < interval_) {
      ++it;
      continue;
    }
    close_window(it->first, it->second, now);
    // A kind that has been quiet for a whole interval is forgotten, so the map holds only what is active.
    it = it->second.written == 0 ? windows_.erase(it) : std::next(it);
  }
}

void LogThrottle::close_window(const std::string& kind, Window& window, Clock::time_point now) {
  if (window.suppressed > 0) {
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - window.started).count();
    logger_->warn("suppressed {} similar message(s) ({}) in the last {} s", window.suppressed, kind, seconds);
  }
  window = Window{now, 0, 0};
}

}  // namespace creni::ingest
