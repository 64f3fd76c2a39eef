#pragma once

#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "creni/catalog/catalog.hpp"

namespace creni::pipeline {

/// Keeps OUTPUT/gateway_<id>/image.db up to date with the results, from one thread ("catalog-writer") that
/// commits everything queued for one file in one transaction: image.db stays in the rollback-journal mode the
/// gateways' readers expect, where each commit costs several fsyncs, so a burst of results costs a few commits
/// instead of a few per image. The index is derived data: a failure is logged, never a reason to lose an image.
/// Thread-safe: add() from any thread; stop() flushes what is queued and joins (the destructor calls it).
class CatalogWriter {
 public:
  CatalogWriter();
  ~CatalogWriter();
  CatalogWriter(const CatalogWriter&) = delete;
  CatalogWriter& operator=(const CatalogWriter&) = delete;

  /// Queues `entry` for `<output_root>/image.db`.
  void add(const std::filesystem::path& output_root, catalog::CatalogRecord entry);
  /// Writes everything queued, then stops. Idempotent.
  void stop();
  /// Blocks until everything queued before the call is committed (tests, orderly shutdown).
  void flush();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::filesystem::path, std::vector<catalog::CatalogRecord>> queued_;
  std::uint64_t queued_count_ = 0;   // entries ever queued
  std::uint64_t written_count_ = 0;  // entries ever taken for writing and finished
  bool stopping_ = false;
  std::map<std::filesystem::path, std::unique_ptr<catalog::Catalog>> open_;  // used by the writer thread only
  std::thread thread_;
};

}  // namespace creni::pipeline
