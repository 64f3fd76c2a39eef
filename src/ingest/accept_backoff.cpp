#include "accept_backoff.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace creni::ingest {

namespace {
constexpr auto kFirstPause = std::chrono::milliseconds(50);
constexpr auto kLongestPause = std::chrono::milliseconds(1000);
}  // namespace

AcceptBackoff::AcceptBackoff(std::string listener, LogThrottle& throttle, std::shared_ptr<spdlog::logger> logger)
    : listener_(std::move(listener)), throttle_(throttle), logger_(std::move(logger)) {}

bool AcceptBackoff::is_exhaustion(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

void AcceptBackoff::failed(int error, Clock::time_point now) {
  pause_ = pause_.count() == 0 ? kFirstPause : std::min(pause_ * 2, kLongestPause);
  resume_at_ = now + pause_;
  if (throttle_.admit(listener_ + " accept failed", now)) {
    logger_->warn("{} accept failed: {}; pausing accepts (up to {} ms at a time) until descriptors are free",
                  listener_, std::strerror(error), kLongestPause.count());
  }
  exhausted_ = true;
}

void AcceptBackoff::succeeded() {
  if (exhausted_) logger_->info("{} accepting again", listener_);
  exhausted_ = false;
  pause_ = std::chrono::milliseconds(0);
  resume_at_ = {};
}

}  // namespace creni::ingest
