#include "accept_backoff.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace creni::ingest {

namespace {
constexpr auto kFirstPause = std::chrono::milliseconds(50);
constexpr auto kLongestPause = std::chrono::milliseconds(1000);
constexpr auto kLogInterval = std::chrono::seconds(10);
}  // namespace

AcceptBackoff::AcceptBackoff(std::string listener, std::shared_ptr<spdlog::logger> logger)
    : listener_(std::move(listener)), logger_(std::move(logger)) {}

bool AcceptBackoff::is_exhaustion(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

void AcceptBackoff::failed(int error, Clock::time_point now) {
  pause_ = pause_.count() == 0 ? kFirstPause : std::min(pause_ * 2, kLongestPause);
  resume_at_ = now + pause_;
  ++failures_;
  if (!exhausted_) {
    logger_->warn("{} accept failed: {}; pausing accepts (up to {} ms at a time) until descriptors are free",
                  listener_, std::strerror(error), kLongestPause.count());
    last_logged_ = now;
  } else if (now - last_logged_ >= kLogInterval) {
    logger_->warn("{} still cannot accept ({}): {} failed accept(s) in the last {} s", listener_,
                  std::strerror(error), unlogged_failures_ + 1,
                  std::chrono::duration_cast<std::chrono::seconds>(now - last_logged_).count());
    last_logged_ = now;
    unlogged_failures_ = 0;
  } else {
    ++unlogged_failures_;
  }
  exhausted_ = true;
}

void AcceptBackoff::succeeded() {
  if (exhausted_) logger_->info("{} accepting again after {} failed accept(s)", listener_, failures_);
  exhausted_ = false;
  failures_ = 0;
  unlogged_failures_ = 0;
  pause_ = std::chrono::milliseconds(0);
  resume_at_ = {};
}

}  // namespace creni::ingest
