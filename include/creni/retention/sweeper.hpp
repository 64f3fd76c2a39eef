#pragma once

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/journal/retention_queries.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::retention {

/// The retention sweeper ([retention]): every `sweep_interval` (and early when OUTPUT's or state's volume comes
/// within twice `min_free_mb` of the free-space watermark) it removes, oldest first and in small batches,
/// results past their age or above their gateway's size cap (never one not yet delivered, unless
/// delete_unforwarded), archive and quarantine files past their age or cap, and finished journal rows past
/// journal_max_age; then gives the journal's free pages back (incremental vacuum), measures every area and
/// publishes RetentionStats in <state>/retention-status.json. Its thread ("retention") runs at idle I/O priority
/// and low CPU priority, and pauses between batches, so ingest does not feel it.
/// start()/stop() from one thread; stats() from any thread.
class Sweeper {
 public:
  /// Opens its own connection to <state>/journal.db (Journal::open must have made the schema).
  [[nodiscard]] static Result<std::unique_ptr<Sweeper>> open(const config::NodeConfig& config);

  Sweeper(const Sweeper&) = delete;
  Sweeper& operator=(const Sweeper&) = delete;
  ~Sweeper();

  /// Starts the thread; the first sweep runs after sweep_interval or a minute, whichever is shorter (it also
  /// completes any removal a crash interrupted).
  [[nodiscard]] Status start();
  /// Stops between two batches and joins. Idempotent.
  void stop();

  /// One whole sweep in the calling thread (the thread's body; tests call it directly). Not concurrently with
  /// the running thread.
  SweepReport sweep_once();

  /// The figures of the last sweep (and totals since start), for status and metrics.
  [[nodiscard]] RetentionStats stats() const;

 private:
  Sweeper(config::NodeConfig config, std::unique_ptr<journal::RetentionQueries> queries);
  void run();
  // Sleeps between batches; false once stop() was called.
  bool pace();
  bool disk_pressure() const;
  // Incremental vacuum in small transactions, then a passive checkpoint of the journal's log.
  void reclaim_journal_space(SweepReport& report);

  const config::NodeConfig config_;
  std::unique_ptr<journal::RetentionQueries> queries_;
  mutable std::mutex mutex_;  // guards stats_ and stopping_
  std::condition_variable wake_;
  RetentionStats stats_;
  bool stopping_ = false;
  std::thread thread_;
};

/// Lowers the calling thread's I/O priority to the idle class (ioprio_set, IOPRIO_CLASS_IDLE) and its CPU
/// priority (nice 10). False when the kernel refused (the sweep runs anyway).
bool lower_thread_priority();

}  // namespace creni::retention
