#pragma once

#include <httplib.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace creni::http {

/// cpp-httplib's task queue with named threads ("http-<n>") and a bounded queue: when `capacity` connections are
/// already waiting, enqueue() blocks the accept thread, so further connections wait in the kernel's backlog
/// instead of growing memory. The request threads always drain the queue (each request has read and write
/// timeouts), so a blocked enqueue always ends.
class BoundedTaskQueue final : public httplib::TaskQueue {
 public:
  BoundedTaskQueue(int threads, std::size_t capacity);
  ~BoundedTaskQueue() override;
  BoundedTaskQueue(const BoundedTaskQueue&) = delete;
  BoundedTaskQueue& operator=(const BoundedTaskQueue&) = delete;

  void enqueue(std::function<void()> task) override;
  /// Runs what is queued, then joins the threads. Idempotent.
  void shutdown() override;

 private:
  void work(int index);

  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> tasks_;
  bool closing_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace creni::http
