// One worker process of a pipeline slot: started (and READY) when needed, replaced when it fails.

#include "worker_slot.hpp"

#include "creni/pipeline/worker_protocol.hpp"
#include "pipeline_detail.hpp"

namespace creni::pipeline {

using detail::logger;

WorkerProcess* WorkerSlot::ensure_running() {
  if (worker_) return worker_.get();
  auto spawned = WorkerProcess::spawn(options_.worker_command);
  if (!spawned) {
    logger()->error("worker {} cannot start: {}", index_, spawned.error().describe());
    return nullptr;
  }
  auto ready = spawned.value()->read_line(options_.worker_start_timeout);
  if (!ready || !decode_ready(ready.value()).ok()) {
    logger()->error("worker {} did not start: {}", index_, ready ? "bad READY line" : ready.error().describe());
    return nullptr;
  }
  worker_ = std::move(spawned).value();
  pid_ = static_cast<long>(worker_->pid());
  logger()->debug("worker {} started, pid {}", index_, worker_->pid());
  if (options_.metrics) options_.metrics->worker_started();
  return worker_.get();
}

std::string WorkerSlot::replace() {
  if (!worker_) return {};
  const std::string how = worker_->kill_and_reap();
  worker_.reset();
  if (options_.metrics) options_.metrics->worker_replaced();
  return how;
}

}  // namespace creni::pipeline
