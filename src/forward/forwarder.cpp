#include "creni/forward/forwarder.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <utility>

#include "creni/common/crash_point.hpp"

namespace creni::forward {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("forward");
  return named ? named : spdlog::default_logger();
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string status_text(int dimse_status) {
  if (dimse_status < 0) return "-";
  char text[16];
  std::snprintf(text, sizeof text, "0x%04X", static_cast<unsigned>(dimse_status) & 0xFFFFu);
  return text;
}

constexpr double kMaxDelayMs = 24.0 * 3600.0 * 1000.0;
constexpr int kRecordTries = 3;  // the journal may be busy for a moment (another process, a long transaction)
// Forwards claimed in one commit at most: enough to share the journal's sync across a burst, few enough that a
// crash leaves little claimed and unsent (each such forward ends forward_unknown and needs an operator's resend).
constexpr std::size_t kMaxBatch = 8;

}  // namespace

std::optional<std::chrono::milliseconds> RetryPolicy::delay_after(int attempts, double jitter) const {
  if (attempts < 1 || attempts >= max_attempts) return std::nullopt;
  // The exponent is capped: beyond 2^20 the one-day cap applies anyway.
  const double base_ms = std::max(0, backoff_s) * 1000.0 * std::ldexp(1.0, std::min(attempts - 1, 20));
  const double scaled_ms = base_ms * (1.0 + 0.2 * std::clamp(jitter, -1.0, 1.0));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::min(scaled_ms, kMaxDelayMs)));
}

journal::ForwardOutcome to_forward_outcome(const SendResult& result) {
  journal::ForwardState state = journal::ForwardState::forward_failed;
  switch (result.outcome) {
    case SendOutcome::sent: state = journal::ForwardState::done; break;
    case SendOutcome::failed: state = journal::ForwardState::forward_failed; break;
    case SendOutcome::unknown: state = journal::ForwardState::forward_unknown; break;
  }
  return journal::ForwardOutcome{state, std::string(to_string(result.phase)), result.detail, result.dimse_status};
}

/// One destination: its sender, its thread and its wake-up. The sender is only used by the lane's thread.
class Forwarder::Lane {
 public:
  Lane(journal::Journal& journal, config::DestinationConfig destination, std::unique_ptr<PacsSender> sender,
       std::chrono::milliseconds poll_interval, std::shared_ptr<metrics::ForwardMetrics> metrics)
      : journal_(journal),
        destination_(std::move(destination)),
        policy_{destination_.max_attempts, destination_.retry_backoff_s},
        sender_(std::move(sender)),
        poll_interval_(poll_interval),
        random_(std::random_device{}()),
        metrics_(std::move(metrics)) {}

  ~Lane() { stop(); }
  Lane(const Lane&) = delete;
  Lane& operator=(const Lane&) = delete;

  void start() { thread_ = std::thread([this] { run(); }); }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_up_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  void wake() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      woken_ = true;
    }
    wake_up_.notify_all();
  }

 private:
  // Thread entry. Nothing may escape a thread (std::terminate): each round has its own firewall, so one bad
  // round (an exception from the journal, say) costs a poll interval, not the destination's forwarding.
  void run() {
    const std::string name = ("forward-" + destination_.name).substr(0, 15);  // the kernel keeps 15 characters
    pthread_setname_np(pthread_self(), name.c_str());
    while (!stopping()) {
      bool worked = false;
      try {
        worked = forward_due();
      } catch (const std::exception& e) {
        logger()->critical("destination={} internal error while forwarding: {}", destination_.name, e.what());
      } catch (...) {
        logger()->critical("destination={} unknown internal error while forwarding", destination_.name);
      }
      if (!worked) {
        // Nothing due: an association kept open for the next result of a study is not held while idle.
        sender_->release_association();
        idle();
      }
    }
    sender_->release_association();
  }

  bool stopping() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return stopping_;
  }

  void idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_up_.wait_for(lock, poll_interval_, [this] { return woken_ || stopping_; });
    woken_ = false;
  }

  // Sends what is due, in batches: every forward is claimed (recorded `forwarding`, attempt counted) before it is
  // sent, and the outcomes of one batch are recorded in the same commit that claims the next. A burst thus pays
  // one journal sync per batch instead of two per result. A batch starts at one forward and doubles while work
  // keeps coming (up to kMaxBatch), so that a result arriving alone goes out after a single claim, and a crash
  // leaves at most a batch claimed and unsent (forward_unknown, never sent twice). False when nothing was due.
  bool forward_due() {
    auto claimed = journal_.claim_forwards(destination_.name, batch_limit_);
    if (!claimed.ok()) {
      logger()->error("destination={} cannot claim a forward: {}", destination_.name, claimed.error().describe());
      return false;
    }
    if (claimed->empty()) {
      batch_limit_ = 1;
      return false;
    }
    std::vector<journal::ForwardTask> tasks = std::move(claimed).value();
    while (!tasks.empty()) {
      crash_point("forward_claimed");
      std::vector<journal::ForwardResult> results;
      results.reserve(tasks.size());
      bool all_sent = true;
      for (const journal::ForwardTask& task : tasks) {
        results.push_back(send_and_report(task));
        all_sent = all_sent && results.back().outcome.state == journal::ForwardState::done;
      }
      // A destination that fails gets one forward at a time again: a batch claimed against a dead PACS would
      // hold the lane (and a stop) for a connect timeout per forward in it.
      batch_limit_ = all_sent ? std::min(kMaxBatch, batch_limit_ * 2) : 1;
      tasks = record(results, stopping() ? 0 : batch_limit_);
      crash_point("forward_recorded");
    }
    return true;
  }

  // One attempt of a claimed forward: sent, logged and counted; its outcome is for the caller to record.
  journal::ForwardResult send_and_report(const journal::ForwardTask& task) {
    const auto started = std::chrono::steady_clock::now();
    const SendResult result = send(task);
    crash_point("forward_answered");
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    const std::optional<std::chrono::milliseconds> retry_in = retry_delay(task, result);
    log(task, result, retry_in, elapsed);
    observe(task, result, elapsed);
    std::optional<std::int64_t> retry_at;
    if (retry_in) retry_at = epoch_ms() + retry_in->count();
    journal::ForwardResult reported;
    reported.task_id = task.id;
    reported.outcome = to_forward_outcome(result);
    reported.retry_at_ms = retry_at;
    return reported;
  }

  // The sender's own contract is not to throw; if it does anyway, nobody knows what reached the PACS.
  SendResult send(const journal::ForwardTask& task) {
    try {
      return sender_->send_once(task.output_path);
    } catch (const std::exception& e) {
      return SendResult{SendOutcome::unknown, SendPhase::store, std::string("internal error: ") + e.what(), -1};
    } catch (...) {
      return SendResult{SendOutcome::unknown, SendPhase::store, "unknown internal error", -1};
    }
  }

  std::optional<std::chrono::milliseconds> retry_delay(const journal::ForwardTask& task, const SendResult& result) {
    if (result.outcome != SendOutcome::failed) return std::nullopt;
    std::uniform_real_distribution<double> jitter(-1.0, 1.0);
    return policy_.delay_after(task.attempts, jitter(random_));
  }

  // Records `results` and claims up to `next_limit` more in one commit; returns what was claimed. When the journal
  // refuses (after kRecordTries), nothing more is claimed and the results stay `forwarding`: recover() at the next
  // start turns them into forward_unknown, never a silent second send.
  std::vector<journal::ForwardTask> record(const std::vector<journal::ForwardResult>& results, std::size_t next_limit) {
    for (int attempt = 1; attempt <= kRecordTries; ++attempt) {
      auto recorded = journal_.record_forward_outcomes_and_claim(results, destination_.name, next_limit);
      if (recorded.ok()) return std::move(recorded).value();
      logger()->error("destination={} cannot record {} outcome(s) ({}/{}): {}", destination_.name, results.size(),
                      attempt, kRecordTries, recorded.error().describe());
      if (attempt < kRecordTries) std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
    }
    return {};
  }

  void log(const journal::ForwardTask& task, const SendResult& result,
           std::optional<std::chrono::milliseconds> retry_in, std::chrono::milliseconds elapsed) {
    const std::string retry = retry_in ? " retry_in_ms=" + std::to_string(retry_in->count()) : "";
    const spdlog::level::level_enum level =
        result.outcome == SendOutcome::sent ? spdlog::level::info : spdlog::level::warn;
    logger()->log(level, "gw={} job={} sop={} destination={} outcome={} phase={} status={} attempt={}/{} ms={}{} {}",
                  task.gateway_id, task.job_id, task.result_sop_instance_uid, destination_.name,
                  to_string(result.outcome), to_string(result.phase), status_text(result.dimse_status),
                  task.attempts, std::max(1, policy_.max_attempts), elapsed.count(), retry, result.detail);
  }

  void observe(const journal::ForwardTask& task, const SendResult& result, std::chrono::milliseconds elapsed) {
    if (!metrics_) return;
    // The arrival time came with the claim: no journal read (which would wait behind other threads' commits).
    std::optional<double> since_arrival;
    if (result.outcome == SendOutcome::sent && task.job_created_at_ms > 0) {
      since_arrival = static_cast<double>(epoch_ms() - task.job_created_at_ms) / 1000.0;
    }
    metrics_->forwarded(destination_.name, task.gateway_id, journal::to_string(to_forward_outcome(result).state),
                        static_cast<double>(elapsed.count()) / 1000.0, since_arrival);
  }

  journal::Journal& journal_;
  const config::DestinationConfig destination_;
  const RetryPolicy policy_;
  std::unique_ptr<PacsSender> sender_;
  const std::chrono::milliseconds poll_interval_;
  std::mt19937_64 random_;
  std::shared_ptr<metrics::ForwardMetrics> metrics_;  // may be null
  std::size_t batch_limit_ = 1;  // forwards claimed at once; only the lane's thread uses it

  std::mutex mutex_;  // guards stopping_ and woken_
  std::condition_variable wake_up_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

Forwarder::Forwarder(journal::Journal& journal, std::vector<config::DestinationConfig> destinations,
                     SenderFactory factory, std::chrono::milliseconds poll_interval,
                     std::shared_ptr<metrics::ForwardMetrics> metrics)
    : journal_(journal),
      destinations_(std::move(destinations)),
      factory_(std::move(factory)),
      poll_interval_(std::max(poll_interval, std::chrono::milliseconds(10))),
      metrics_(std::move(metrics)) {}

Forwarder::~Forwarder() { stop(); }

Status Forwarder::start() {
  const std::lock_guard<std::mutex> lock(lanes_mutex_);
  if (!lanes_.empty()) return {};
  std::set<std::string> names;
  for (const auto& destination : destinations_) {
    if (destination.name.empty() || !names.insert(destination.name).second) {
      return make_error("invalid_config", "destination name '" + destination.name + "' is empty or not unique");
    }
  }
  // All senders first, on this thread: the factory may touch process-wide DCMTK settings (connect timeout).
  std::vector<std::unique_ptr<Lane>> lanes;
  for (const auto& destination : destinations_) {
    std::unique_ptr<PacsSender> sender;
    try {
      sender = factory_ ? factory_(destination) : nullptr;
    } catch (const std::exception& e) {
      return make_error("sender_failed", "destination '" + destination.name + "': " + e.what());
    }
    if (!sender) return make_error("sender_failed", "destination '" + destination.name + "': no sender");
    lanes.push_back(std::make_unique<Lane>(journal_, destination, std::move(sender), poll_interval_, metrics_));
  }
  lanes_ = std::move(lanes);
  for (auto& lane : lanes_) lane->start();
  logger()->info("forwarding to {} destination(s)", lanes_.size());
  return {};
}

void Forwarder::stop() {
  const std::lock_guard<std::mutex> lock(lanes_mutex_);
  for (auto& lane : lanes_) lane->stop();
  lanes_.clear();
}

void Forwarder::wake() {
  const std::lock_guard<std::mutex> lock(lanes_mutex_);
  for (auto& lane : lanes_) lane->wake();
}

}  // namespace creni::forward
