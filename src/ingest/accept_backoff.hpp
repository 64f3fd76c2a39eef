#pragma once

#include <chrono>
#include <string>

#include <spdlog/spdlog.h>

#include <memory>

namespace creni::ingest {

/// What an accept loop does when accept() fails for lack of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM): the listening socket stays readable, so polling it again at once would spin. After each failure the
/// loop leaves the listening socket out of its poll set until resume_at(): 50 ms after the first failure, doubling
/// up to 1 s while failures go on; the first accept that works resets it. Logged once when it starts, then at most
/// once per 10 s with the number of failed accepts meanwhile, and once when accepting works again. Not thread-safe:
/// one per accept loop.
class AcceptBackoff {
 public:
  using Clock = std::chrono::steady_clock;

  AcceptBackoff(std::string listener, std::shared_ptr<spdlog::logger> logger);

  /// True for the errors that mean "out of resources, try later" rather than "this one connection failed".
  [[nodiscard]] static bool is_exhaustion(int error);
  /// Records a failed accept with `error` (errno) and starts or lengthens the pause.
  void failed(int error, Clock::time_point now = Clock::now());
  /// Records an accept that worked: the next failure starts from the shortest pause again.
  void succeeded();
  /// Whether the listening socket is to be left alone at `now`.
  [[nodiscard]] bool paused(Clock::time_point now = Clock::now()) const { return now < resume_at_; }
  [[nodiscard]] Clock::time_point resume_at() const { return resume_at_; }

 private:
  std::string listener_;
  std::shared_ptr<spdlog::logger> logger_;
  std::chrono::milliseconds pause_{0};
  Clock::time_point resume_at_{};
  bool exhausted_ = false;
  Clock::time_point last_logged_{};
  long unlogged_failures_ = 0;
  long failures_ = 0;
};

}  // namespace creni::ingest
