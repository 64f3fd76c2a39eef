#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/series/series_job.hpp"

namespace creni::journal {
class Journal;
}

namespace creni::series {

/// Watches the journal's open series runs, completes them on the first completion signal (completion_signal),
/// runs the series job of each complete run and records its report, which then goes to the gateway's
/// destinations through the forward ledger. One thread ("series"); start()/stop() idempotent, stop() waits for
/// a running series job (bounded by the module's timeout). A series job that fails is run once more, then the run
/// is `failed` with the reason. Thread-safe: wake() from any thread.
class SeriesTracker {
 public:
  /// `executable`: the node's own binary, which runs the series step "infer" as a contained process
  /// (`executable series-infer ...`). `on_reported` is called (on the series thread) after a report was recorded,
  /// e.g. to wake the forwarder.
  SeriesTracker(const config::NodeConfig& config, journal::Journal& journal, std::string executable,
                std::function<void()> on_reported = {});
  ~SeriesTracker();
  SeriesTracker(const SeriesTracker&) = delete;
  SeriesTracker& operator=(const SeriesTracker&) = delete;

  /// Removes work folders left in <state>/series-work by an interrupted job, checks every gateway's series steps (a
  /// module that is not an executable file, a model that does not fit its [series.infer], checked in a contained
  /// process: "invalid_config" naming the key), puts runs left `reporting` back to `complete`, and starts the thread.
  [[nodiscard]] Status start();
  void stop();
  /// Something changed (an instance was written): look again now.
  void wake();

 private:
  void run();
  void complete_due_runs();
  bool report_one();
  [[nodiscard]] const config::SeriesConfig& series_of(const std::string& gateway_id) const;

  config::NodeConfig config_;
  journal::Journal& journal_;
  std::string executable_;
  std::function<void()> on_reported_;
  std::map<std::string, std::unique_ptr<SeriesJob>> jobs_;  // by gateway id; "" for gateways not configured
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool woken_ = false;
  std::thread thread_;
};

}  // namespace creni::series
