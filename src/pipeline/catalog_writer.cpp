#include "creni/pipeline/catalog_writer.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace creni::pipeline {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

}  // namespace

CatalogWriter::CatalogWriter() : thread_([this] { run(); }) {}

CatalogWriter::~CatalogWriter() { stop(); }

void CatalogWriter::add(const std::filesystem::path& output_root, catalog::CatalogRecord entry) {
  {
    const std::lock_guard lock(mutex_);
    queued_[output_root].push_back(std::move(entry));
    ++queued_count_;
  }
  changed_.notify_all();
}

void CatalogWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = queued_count_;
  changed_.wait(lock, [&] { return written_count_ >= target || !thread_.joinable(); });
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
    std::map<std::filesystem::path, std::vector<catalog::CatalogRecord>> batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return stopping_ || !queued_.empty(); });
      if (queued_.empty()) return;  // stopping, and everything is written
      batch.swap(queued_);
    }
    std::uint64_t entries = 0;
    for (auto& [root, records] : batch) {
      entries += records.size();
      try {
        auto& catalog = open_[root];
        if (!catalog) {
          auto opened = catalog::Catalog::open_for_writing(root / "image.db");
          if (!opened) {
            logger()->error("cannot open {}: {}; {} row(s) not indexed", (root / "image.db").string(),
                            opened.error().describe(), records.size());
            continue;
          }
          catalog = std::move(opened).value();
        }
        if (Status written = catalog->upsert_all(records); !written) {
          logger()->error("{} not updated with {} row(s): {}", (root / "image.db").string(), records.size(),
                          written.error().describe());
        }
      } catch (const std::exception& e) {
        logger()->error("{} not updated: {}", (root / "image.db").string(), e.what());
      }
    }
    {
      const std::lock_guard lock(mutex_);
      written_count_ += entries;
    }
    changed_.notify_all();
  }
}

}  // namespace creni::pipeline
