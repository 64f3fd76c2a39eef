#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/forward/pacs_sender.hpp"
#include "creni/journal/journal.hpp"
#include "creni/metrics/forward_metrics.hpp"

namespace creni::forward {

/// A destination's retry schedule (max_attempts, retry_backoff_s). Only `failed` attempts are ever retried.
struct RetryPolicy {
  int max_attempts = 1;  ///< attempts in all, the first included; 1 = exactly one
  int backoff_s = 30;    ///< wait before the second attempt; doubled for each further one

  /// The wait before the next attempt after `attempts` failed ones, or nullopt when none is left. `jitter` in
  /// [-1, 1] scales the wait by up to +-20 %: backoff_s * 2^(attempts-1) * (1 + 0.2 * jitter), capped at one day.
  [[nodiscard]] std::optional<std::chrono::milliseconds> delay_after(int attempts, double jitter) const;
};

/// What the journal records for a sender's result: sent -> done, failed -> forward_failed,
/// unknown -> forward_unknown (phase and detail kept, dimse_status -1 when no response came).
[[nodiscard]] journal::ForwardOutcome to_forward_outcome(const SendResult& result);

/// Forwards written results to their PACS destinations: one named thread per destination ("forward-<name>", at
/// most 15 characters shown by the OS), so a slow or dead PACS only ever blocks its own queue. Each thread loops:
/// `journal.claim_forwards(name, n)` (recorded `forwarding`, attempt counted, before anything goes out), one
/// `send_once` per task's output file, then the outcomes (a retry time only for a `failed` attempt while attempts
/// remain: RetryPolicy with +-20 % jitter) recorded in the commit that claims the next batch
/// (`record_forward_outcomes_and_claim`). n starts at 1 and doubles up to 8 while forwards keep being sent (back to
/// 1 after any forward that was not), so a burst shares one journal sync per batch and a lone result waits for one
/// claim only. `unknown` is never retried. With
/// nothing due, the thread sleeps until wake() or the poll interval (so retries fall due without a wake-up).
/// Each forward is logged once: gw, job, sop, destination, outcome, phase, status, attempt and milliseconds.
/// If recording outcomes fails (after 3 tries) those forwards stay `forwarding`; Journal::recover() turns them into
/// `forward_unknown` at the next start, so it is never silently re-sent. An exception in a round is logged and
/// costs one poll interval; it never ends the thread.
/// Thread-safety: start(), stop() and wake() may be called from any thread; the journal must outlive the
/// forwarder. stop() waits for attempts in flight, bounded by the senders' timeouts.
class Forwarder {
 public:
  using SenderFactory = std::function<std::unique_ptr<PacsSender>(const config::DestinationConfig&)>;

  /// `factory` builds one sender per destination at start() (in the calling thread, before any forward thread
  /// runs). `poll_interval` bounds how long a due retry can wait for its thread to notice it. `metrics`, when
  /// given, counts every attempt's outcome and time.
  Forwarder(journal::Journal& journal, std::vector<config::DestinationConfig> destinations, SenderFactory factory,
            std::chrono::milliseconds poll_interval = std::chrono::seconds(1),
            std::shared_ptr<metrics::ForwardMetrics> metrics = nullptr);
  ~Forwarder();  ///< calls stop()
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  /// Builds the senders and starts one thread per destination. Errors: "invalid_config" (duplicate or empty
  /// destination name), "sender_failed" (the factory threw or returned nothing); nothing is started then.
  /// Calling it again while running does nothing.
  [[nodiscard]] Status start();

  /// Stops every thread after its current attempt (recorded) and joins them. Idempotent.
  void stop();

  /// Makes every idle thread look for due forwards now (call after Journal::mark_written or resend).
  void wake();

 private:
  class Lane;  // one destination: its sender, thread and wake-up

  journal::Journal& journal_;
  std::vector<config::DestinationConfig> destinations_;
  SenderFactory factory_;
  std::chrono::milliseconds poll_interval_;
  std::shared_ptr<metrics::ForwardMetrics> metrics_;
  std::mutex lanes_mutex_;  // guards lanes_ (start/stop/wake from different threads)
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace creni::forward
