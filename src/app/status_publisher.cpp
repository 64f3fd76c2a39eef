#include "status_publisher.hpp"

#include <malloc.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <system_error>

#include "creni/common/atomic_file.hpp"

namespace creni::app {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("node");
  return named ? named : spdlog::default_logger();
}

constexpr int kTrimEveryRounds = 30;  // a minute of 2-second rounds

// glibc gives each of up to 8 arenas per core to the node's threads (SCP, HTTP, pipeline, sweeper) and returns
// an arena's memory to the system only from its top: pages freed below a chunk still in use stay in the RSS.
// SQLite's page caches, filled and emptied by whichever thread runs a statement, leave such holes in every
// arena. In the retention soak, with no memory held per image any more, RSS still rose by 80 KB a minute, free
// space in the arenas as much as memory in use; trimmed once a minute, it stayed flat and 3-4 MB lower
// (docs/retention-soak.md). malloc_trim(0) releases the free pages of every arena (the chunks stay valid).
void trim_heap() {
  const auto started = std::chrono::steady_clock::now();
  const int released = ::malloc_trim(0);
  logger()->debug("heap trimmed ({}released) in {} us", released != 0 ? "" : "nothing ",
                  std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started)
                      .count());
}

}  // namespace

StatusPublisher::StatusPublisher(std::filesystem::path file, std::function<NodeStatus()> snapshot)
    : file_(std::move(file)), snapshot_(std::move(snapshot)), thread_([this] { run(); }) {}

StatusPublisher::~StatusPublisher() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);  // a stopped node publishes nothing
}

void StatusPublisher::run() {
  pthread_setname_np(pthread_self(), "node-status");
  std::unique_lock lock(mutex_);
  for (int round = 1; !stopping_; ++round) {
    lock.unlock();
    if (round % kTrimEveryRounds == 0) trim_heap();
    try {
      if (Status written = fs::write_file_atomically(file_, to_json(snapshot_())); !written) {
        logger()->debug("cannot publish status: {}", written.error().describe());
      }
    } catch (const std::exception& e) {
      logger()->debug("cannot publish status: {}", e.what());
    }
    lock.lock();
    stop_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_; });
  }
}

}  // namespace creni::app
