#pragma once

#include <memory>
#include <string>

#include "creni/pipeline/pipeline.hpp"
#include "creni/pipeline/worker_process.hpp"

namespace creni::pipeline {

// One worker process and what it takes to (re)start it.
class WorkerSlot {
 public:
  WorkerSlot(const PipelineOptions& options, int index) : options_(options), index_(index) {}

  // The running worker, started (and READY) if necessary; nullptr when it cannot be started.
  WorkerProcess* ensure_running();

  /// The process id of the worker last started (still known after it died and was reaped), -1 before any.
  [[nodiscard]] long pid() const { return pid_; }

  // Kills and reaps the running worker (the next ensure_running() starts another); how it ended, "" when none ran.
  std::string replace();

 private:
  const PipelineOptions& options_;
  int index_;
  std::unique_ptr<WorkerProcess> worker_;
  long pid_ = -1;
};

}  // namespace creni::pipeline
