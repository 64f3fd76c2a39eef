#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "creni/common/result.hpp"
#include "creni/journal/journal.hpp"

namespace creni::app {

/// Checks every `interval` that the node's journal is still the file at its path (Journal::check_file_in_place)
/// from its own thread ("journal-watch"). The first time it is not, it logs the reason as critical, keeps it
/// (failure()) and calls `on_failure` once, from that thread; the node then stops with an error instead of
/// writing on into a deleted file, or a fresh empty journal being made at the next start unnoticed.
/// The destructor stops and joins the thread.
class JournalWatch {
 public:
  JournalWatch(const journal::Journal& journal, std::chrono::milliseconds interval, std::function<void()> on_failure);
  ~JournalWatch();
  JournalWatch(const JournalWatch&) = delete;
  JournalWatch& operator=(const JournalWatch&) = delete;

  /// The reason the journal was found replaced, or nullopt while it is in place.
  [[nodiscard]] std::optional<Error> failure() const;

 private:
  void run();

  const journal::Journal& journal_;
  const std::chrono::milliseconds interval_;
  std::function<void()> on_failure_;
  mutable std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::optional<Error> failure_;
  std::thread thread_;
};

}  // namespace creni::app
