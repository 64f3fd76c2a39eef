#include "creni/pipeline/catalog_writer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <set>
#include <utility>

namespace creni::pipeline {

namespace {

// How long rows may wait for others to share their commit: image.db is derived data that nobody needs within
// milliseconds, and each rollback-journal commit costs several fsyncs that compete with the results' own.
constexpr auto kLinger = std::chrono::milliseconds(100);

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

}  // namespace

CatalogWriter::CatalogWriter(IndexedCallback on_indexed)
    : on_indexed_(std::move(on_indexed)), thread_([this] { run(); }) {}

CatalogWriter::~CatalogWriter() { stop(); }

void CatalogWriter::add(std::int64_t job_id, std::vector<CatalogEntry> entries) {
  {
    const std::lock_guard lock(mutex_);
    if (queued_.empty()) first_queued_at_ = std::chrono::steady_clock::now();
    queued_.push_back(QueuedJob{job_id, std::move(entries)});
    ++queued_count_;
  }
  changed_.notify_all();
}

void CatalogWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = queued_count_;
  ++flushing_;
  changed_.notify_all();
  changed_.wait(lock, [&] { return written_count_ >= target || !thread_.joinable(); });
  --flushing_;
}

void CatalogWriter::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CatalogWriter::run() {
  pthread_setname_np(pthread_self(), "catalog-writer");
  while (true) {
    std::vector<QueuedJob> batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      changed_.wait_until(lock, first_queued_at_ + kLinger, [&] { return stopping_ || flushing_ > 0; });
      if (queued_.empty()) return;  // stopping, and everything is written
      batch.swap(queued_);
    }
    const std::vector<std::int64_t> indexed = write(batch);
    if (on_indexed_ && !indexed.empty()) {
      try {
        on_indexed_(indexed);
      } catch (const std::exception& e) {
        logger()->error("cannot record {} indexed job(s): {}", indexed.size(), e.what());
      }
    }
    {
      const std::lock_guard lock(mutex_);
      written_count_ += batch.size();
    }
    changed_.notify_all();
  }
}

catalog::Catalog* CatalogWriter::catalog_for(const std::filesystem::path& folder) {
  auto& catalog = open_[folder];
  if (!catalog) {
    auto opened = catalog::Catalog::open_for_writing(folder / "image.db");
    if (!opened) {
      logger()->error("cannot open {}: {}", (folder / "image.db").string(), opened.error().describe());
      open_.erase(folder);
      return nullptr;
    }
    catalog = std::move(opened).value();
  }
  return catalog.get();
}

std::vector<std::int64_t> CatalogWriter::write(const std::vector<QueuedJob>& batch) {
  std::map<std::filesystem::path, std::vector<std::pair<std::int64_t, const catalog::CatalogRecord*>>> by_folder;
  for (const QueuedJob& job : batch) {
    for (const CatalogEntry& entry : job.entries) by_folder[entry.folder].emplace_back(job.job_id, &entry.record);
  }
  std::set<std::int64_t> failed;
  for (const auto& [folder, rows] : by_folder) {
    const auto file = (folder / "image.db").string();
    try {
      catalog::Catalog* catalog = catalog_for(folder);
      if (catalog == nullptr) {
        for (const auto& row : rows) failed.insert(row.first);
        continue;
      }
      std::vector<catalog::CatalogRecord> records;
      records.reserve(rows.size());
      for (const auto& row : rows) records.push_back(*row.second);
      if (catalog->upsert_all(records).ok()) continue;
      // One bad row must not keep the others out: the batch is all or nothing, so each row goes in on its own.
      for (const auto& [job_id, record] : rows) {
        if (Status one = catalog->upsert(*record); !one) {
          logger()->error("job={} not indexed in {}: {}", job_id, file, one.error().describe());
          failed.insert(job_id);
        }
      }
    } catch (const std::exception& e) {
      logger()->error("{} not updated: {}", file, e.what());
      for (const auto& row : rows) failed.insert(row.first);
    }
  }
  std::vector<std::int64_t> indexed;
  for (const QueuedJob& job : batch) {
    if (failed.count(job.job_id) == 0) indexed.push_back(job.job_id);
  }
  return indexed;
}

}  // namespace creni::pipeline
