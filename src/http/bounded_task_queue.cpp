#include "bounded_task_queue.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <string>

namespace creni::http {

BoundedTaskQueue::BoundedTaskQueue(int threads, std::size_t capacity) : capacity_(capacity) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this, i] { work(i); });
}

BoundedTaskQueue::~BoundedTaskQueue() { shutdown(); }

void BoundedTaskQueue::enqueue(std::function<void()> task) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return tasks_.size() < capacity_ || closing_; });
  tasks_.push_back(std::move(task));
  changed_.notify_all();
}

void BoundedTaskQueue::shutdown() {
  {
    const std::lock_guard lock(mutex_);
    closing_ = true;
  }
  changed_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void BoundedTaskQueue::work(int index) {
  const std::string name = "http-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.c_str());
  while (true) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return closing_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // closing and drained
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    changed_.notify_all();
    // Firewall: a request must never end the thread (the handlers have their own exception handler too).
    try {
      task();
    } catch (const std::exception& e) {
      spdlog::error("http: request failed: {}", e.what());
    } catch (...) {
      spdlog::error("http: request failed on an unknown error");
    }
  }
}

}  // namespace creni::http
