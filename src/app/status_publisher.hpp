#pragma once

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "creni/app/node_status.hpp"

namespace creni::app {

/// Writes <state>/node-status.json every 2 s from its own thread ("node-status"), for `creni-node status`, and
/// removes it when destroyed (a stopped node publishes nothing). Once a minute it also hands the heap's free pages
/// back to the system (malloc_trim): see trim_heap in status_publisher.cpp.
class StatusPublisher {
 public:
  StatusPublisher(std::filesystem::path file, std::function<NodeStatus()> snapshot);
  ~StatusPublisher();
  StatusPublisher(const StatusPublisher&) = delete;
  StatusPublisher& operator=(const StatusPublisher&) = delete;

 private:
  void run();

  std::filesystem::path file_;
  std::function<NodeStatus()> snapshot_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace creni::app
