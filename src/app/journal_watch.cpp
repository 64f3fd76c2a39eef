#include "journal_watch.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

namespace creni::app {

JournalWatch::JournalWatch(const journal::Journal& journal, std::chrono::milliseconds interval,
                           std::function<void()> on_failure)
    : journal_(journal), interval_(interval), on_failure_(std::move(on_failure)), thread_([this] { run(); }) {}

JournalWatch::~JournalWatch() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

std::optional<Error> JournalWatch::failure() const {
  const std::lock_guard lock(mutex_);
  return failure_;
}

void JournalWatch::run() {
  pthread_setname_np(pthread_self(), "journal-watch");
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, interval_, [this] { return stopping_; });
    if (stopping_) return;
    lock.unlock();
    Status in_place = journal_.check_file_in_place();
    lock.lock();
    if (in_place) continue;
    failure_ = in_place.error();
    auto logger = spdlog::get("node");
    (logger ? logger : spdlog::default_logger())
        ->critical("stopping: {} (restore the journal or start again on purpose with a new state folder)",
                   in_place.error().describe());
    lock.unlock();
    if (on_failure_) on_failure_();
    return;
  }
}

}  // namespace creni::app
