// The folder watcher's hand-over: complete files go to the sink in batches, and each result decides whether a
// file is taken, tried again shortly (out of resources) or said once and tried after a rescan interval.

#include "folder_watch_loop.hpp"

namespace creni::ingest {

using namespace detail;

namespace {

// Files handed to the sink in one call at most: enough to share one journal commit across a burst, few enough
// that the workers are not starved while the others are hashed. A burst starts with one file and doubles the
// batch each time (slow start), so that its first file reaches a worker after one hash and one commit, not 32.
constexpr std::size_t kMaxBatch = 32;

}  // namespace

void FolderWatcher::WatchLoop::take_ready_files(const std::atomic<bool>& stopping) {
  const auto now = Clock::now();
  std::vector<std::string> ready;
  const std::vector<Arrival> batch = collect_ready(stopping, now, ready);
  if (batch.empty()) {
    batch_limit_ = 1;  // idle: the next burst starts small again
    return;
  }
  batch_limit_ = std::min(kMaxBatch, batch_limit_ * 2);

  // One hand-over for everything that became ready together: the sink can make a burst durable in one write.
  const std::vector<AcceptResult> results = sink_.accept_all(batch);
  for (std::size_t i = 0; i < ready.size(); ++i) {
    const auto candidate = candidates_.find(ready[i]);
    if (candidate == candidates_.end()) continue;
    if (results[i].outcome == AcceptOutcome::out_of_resources) {
      logger()->warn("gw={} file {} not taken yet: {} {}", candidate->second.gateway_id, ready[i], results[i].reason,
                     results[i].detail);
      candidate->second.not_before = now + kRetryAfterRefusal;
      continue;
    }
    // Refused without a journal row (unreadable, replaced by a FIFO meanwhile): said here, once, and tried again
    // after a rescan interval, since a permission fixed in place changes neither size nor modification time.
    if (results[i].outcome == AcceptOutcome::rejected && results[i].job_id == 0) {
      not_taken_.note(ready[i], results[i].reason, results[i].detail);
      candidate->second.not_before = now + std::chrono::seconds(options_.rescan_interval_s);
      continue;
    }
    taken_[ready[i]] = candidate->second.stamp;
    handed_over_.fetch_add(1);
    candidates_.erase(candidate);
  }
}

}  // namespace creni::ingest
