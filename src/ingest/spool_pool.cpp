#include "spool_pool.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <vector>

#include "creni/common/atomic_file.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

// After a failed batch (folder cannot be synced, no inodes), the next try waits this long.
constexpr auto kRetryAfterFailure = std::chrono::seconds(1);

using detail::logger;  // the module's logger (ingest_logger.hpp)

std::string unique_stem() {
  static std::atomic<unsigned long> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return "scp-" + std::to_string(micros) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

std::filesystem::path create_spool_file(const std::filesystem::path& spool_dir) {
  // Names are unique already; a clash only means trying the next one.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::filesystem::path path = spool_dir / (unique_stem() + ".dcm");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      return path;
    }
    if (errno != EEXIST) break;
  }
  return {};
}

SpoolPool::SpoolPool(std::filesystem::path spool_dir, std::size_t batch)
    : spool_dir_(std::move(spool_dir)), batch_(batch) {}

SpoolPool::~SpoolPool() { stop(); }

void SpoolPool::start() {
  const std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void SpoolPool::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  const std::lock_guard lock(mutex_);
  for (const auto& path : ready_) ::unlink(path.c_str());
  ready_.clear();
}

SpoolPool::Taken SpoolPool::take() {
  {
    std::unique_lock lock(mutex_);
    if (!ready_.empty()) {
      Taken taken;
      taken.path = std::move(ready_.front());
      taken.name_durable = true;
      ready_.pop_front();
      const bool low = ready_.size() < batch_ / 2;
      lock.unlock();
      if (low) wake_.notify_all();
      return taken;
    }
  }
  wake_.notify_all();
  Taken fresh;
  fresh.path = create_spool_file(spool_dir_);
  fresh.name_durable = false;
  return fresh;
}

void SpoolPool::run() {
  pthread_setname_np(pthread_self(), "spool-pool");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (ready_.size() >= batch_ / 2) {
      wake_.wait(lock, [this] { return stopping_ || ready_.size() < batch_ / 2; });
      continue;
    }
    const std::size_t missing = batch_ - ready_.size();
    lock.unlock();
    bool filled = false;
    try {
      filled = refill(missing);
    } catch (const std::exception& e) {
      logger()->warn("spool pool: {}", e.what());
    }
    lock.lock();
    if (!filled) wake_.wait_for(lock, kRetryAfterFailure, [this] { return stopping_; });
  }
}

bool SpoolPool::refill(std::size_t count) {
  std::vector<std::filesystem::path> made;
  for (std::size_t i = 0; i < count; ++i) {
    auto path = create_spool_file(spool_dir_);
    if (path.empty()) break;
    made.push_back(std::move(path));
  }
  if (made.empty()) return false;
  if (Status synced = fs::sync_directory(spool_dir_); !synced) {
    // Not durable names: useless to the pool. Images still arrive: take() creates files and syncs on its own.
    logger()->warn("spool pool: cannot sync {}: {}", spool_dir_.string(), synced.error().describe());
    for (const auto& path : made) ::unlink(path.c_str());
    return false;
  }
  const std::lock_guard lock(mutex_);
  if (stopping_) {
    for (const auto& path : made) ::unlink(path.c_str());
    return true;
  }
  for (auto& path : made) ready_.push_back(std::move(path));
  return made.size() == count;
}

}  // namespace creni::ingest
