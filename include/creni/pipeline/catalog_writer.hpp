#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "creni/catalog/catalog.hpp"

namespace creni::pipeline {

/// One row set for one gateway folder's image.db (OUTPUT/gateway_<id> or, for a mirrored SCP arrival,
/// INPUT/gateway_<id>).
struct CatalogEntry {
  std::filesystem::path folder;
  catalog::CatalogRecord record;
};

/// Keeps the gateways' image.db files up to date with the results, from one thread ("catalog-writer") that
/// commits everything queued for one file in one transaction: image.db stays in the rollback-journal mode the
/// gateways' readers expect, where each commit costs several fsyncs, so rows wait up to 100 ms for others and a
/// burst of results costs a few commits instead of a few per image. The index is derived data: a failure is logged, never a reason to lose an image.
/// After a commit, `on_indexed` is told which jobs have all their rows in place, so that the journal can
/// remember it and a crash before that point is repaired at the next start.
/// Thread-safe: add() from any thread; stop() flushes what is queued and joins (the destructor calls it).
class CatalogWriter {
 public:
  using IndexedCallback = std::function<void(const std::vector<std::int64_t>& job_ids)>;

  explicit CatalogWriter(IndexedCallback on_indexed = {});
  ~CatalogWriter();
  CatalogWriter(const CatalogWriter&) = delete;
  CatalogWriter& operator=(const CatalogWriter&) = delete;

  /// Queues the rows of one job; the job counts as indexed once every one of them is committed.
  void add(std::int64_t job_id, std::vector<CatalogEntry> entries);
  /// Writes everything queued, then stops. Idempotent.
  void stop();
  /// Blocks until everything queued before the call is committed (tests, orderly shutdown).
  void flush();

 private:
  struct QueuedJob {
    std::int64_t job_id;
    std::vector<CatalogEntry> entries;
  };

  void run();
  // Writes one batch; returns the jobs whose rows are all committed.
  std::vector<std::int64_t> write(const std::vector<QueuedJob>& batch);
  catalog::Catalog* catalog_for(const std::filesystem::path& folder);

  IndexedCallback on_indexed_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<QueuedJob> queued_;
  std::uint64_t queued_count_ = 0;   // jobs ever queued
  std::uint64_t written_count_ = 0;  // jobs ever taken for writing and finished
  bool stopping_ = false;
  int flushing_ = 0;                                     // flush() callers waiting: write without lingering
  std::chrono::steady_clock::time_point first_queued_at_;  // when the oldest queued job arrived
  std::map<std::filesystem::path, std::unique_ptr<catalog::Catalog>> open_;  // used by the writer thread only
  std::thread thread_;
};

}  // namespace creni::pipeline
