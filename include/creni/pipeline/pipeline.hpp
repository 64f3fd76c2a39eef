#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "creni/common/folder_syncer.hpp"
#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/ingest/own_input_files.hpp"
#include "creni/metrics/pipeline_metrics.hpp"
#include "creni/pipeline/catalog_writer.hpp"
#include "creni/pipeline/output_claims.hpp"
#include "creni/pipeline/worker_protocol.hpp"

namespace creni::journal {
class Journal;
struct Job;
}

namespace creni::pipeline {

class WorkerProcess;
class WorkerSlot;

struct PipelineOptions {
  int workers = 1;                                   ///< worker processes (and supervising threads)
  std::vector<std::string> worker_command;           ///< argv of `creni-node worker ...` (same config as the node)
  std::chrono::seconds job_timeout{60};              ///< wall-clock limit per job
  std::chrono::seconds io_retry{30};                 ///< wait before a job that failed with io_error runs again
  std::chrono::seconds worker_start_timeout{30};     ///< a worker must say READY within this
  int max_attempts = 2;                              ///< a job whose worker died this often is rejected as poison
  std::filesystem::path input_dir;                   ///< INPUT (SCP arrivals are mirrored to INPUT/gateway_<id>/)
  std::filesystem::path output_dir;                  ///< OUTPUT (results go to OUTPUT/gateway_<id>/)
  std::filesystem::path quarantine_dir;              ///< copies of rejected inputs; empty = none
  std::filesystem::path archive_dir;                 ///< for InputDisposition::archive
  config::InputDisposition after_processing = config::InputDisposition::keep;
  std::vector<config::GatewayConfig> gateways;       ///< layout, destinations and series per gateway id
  config::SeriesConfig series_defaults;              ///< [series] for gateways found on disk but not configured
  std::shared_ptr<ingest::OwnInputFiles> own_input_files;  ///< told about SCP arrivals mirrored into INPUT; may be null
  std::shared_ptr<metrics::PipelineMetrics> metrics;  ///< step times, latency, workers; may be null
};

/// Hands jobs from the journal to supervised worker processes and records what they answer. The node process
/// never decodes pixel data; each of the N supervising threads ("pipeline-<n>") owns one worker process, claims
/// the next `received` job (the journal counts the attempt before it goes out), waits for the answer within the
/// job timeout, and replaces the worker when it crashes or hangs (the job goes back to `received`; the journal
/// rejects it as `poison` once it has used max_attempts). Thread-safe: wake() may be called from any thread.
class Pipeline {
 public:
  /// `on_written` is called (on a pipeline thread) after a job reached `written`, e.g. to wake the forwarder.
  Pipeline(PipelineOptions options, journal::Journal& journal, std::function<void()> on_written = {});
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  /// Starts the supervising threads and waits (up to the worker start timeout) until each has tried to start
  /// its worker process, so that the node is ready to process when this returns.
  [[nodiscard]] Status start();
  /// Stops claiming, lets the running jobs finish (bounded by the job timeout), stops the workers. Idempotent.
  void stop();
  /// New work is in the journal.
  void wake();

  /// Counters since start(), for the node's status.
  struct Stats {
    std::uint64_t images_written = 0;
    std::uint64_t images_inferred = 0;   ///< images on which a model ran
    std::uint64_t inference_us = 0;      ///< total model time over those images
  };
  [[nodiscard]] Stats stats() const;

 private:
  struct InFlight;  // a job sent to a worker
  struct Finished;  // a job the worker answered DONE for, not yet recorded
  struct Committing;  // a Finished whose result is being made durable

  void supervise(int slot);
  InFlight send_to(WorkerProcess& worker, journal::Job job);
  // Tells the folder door the name and inode of the mirror the worker will link for an SCP arrival.
  void expect_mirror(const std::filesystem::path& mirror_root, const journal::Job& job) const;
  std::optional<Finished> await_answer(WorkerSlot& slot, InFlight& in_flight, std::deque<Committing>& committing);
  Committing commit_in_background(Finished finished);
  [[nodiscard]] Status commit_result(std::int64_t job_id, const JobRequest& request, const JobReply& reply);
  // A staged result whose name another job's result already has, or will have: kept or replaced per the journal.
  [[nodiscard]] Status commit_output(std::int64_t job_id, const JobRequest& request, const JobReply& reply);
  void reject(const journal::Job& job, const std::string& reason, const std::string& detail);
  std::optional<journal::Job> record_oldest(std::deque<Committing>& committing, bool claim_next);
  void record_all(std::deque<Committing>& committing);
  std::optional<journal::Job> record_written(Finished& finished, const Status& durable, bool claim_next);

  PipelineOptions options_;
  journal::Journal& journal_;
  std::function<void()> on_written_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable work_available_;
  std::uint64_t wake_generation_ = 0;
  int slots_tried_ = 0;  // supervising threads that have tried to start their first worker
  std::vector<std::thread> threads_;
  std::unique_ptr<CatalogWriter> catalog_writer_;
  fs::FolderSyncer folder_syncer_;  // results' folders, synced before their results are recorded
  OutputClaims output_claims_;      // results being committed, not yet recorded
  std::atomic<std::uint64_t> images_written_{0};
  std::atomic<std::uint64_t> images_inferred_{0};
  std::atomic<std::uint64_t> inference_us_{0};
};

}  // namespace creni::pipeline
