#pragma once

// Internal to the pipeline module: what the Pipeline's parts share. A job goes from the journal to a worker and
// back in stages: sent (InFlight), answered (Finished), being made durable (Committing). pipeline.cpp supervises
// the slots, pipeline_dispatch.cpp sends jobs and judges answers, pipeline_commit.cpp makes results durable,
// pipeline_record.cpp records the outcome in the journal.

#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "creni/journal/journal.hpp"
#include "creni/pipeline/pipeline.hpp"
#include "creni/pipeline/worker_process.hpp"
#include "creni/pipeline/worker_protocol.hpp"

namespace creni::pipeline {

namespace detail {

/// The module's named logger (spdlog "pipeline"), or the default one when it is not registered.
std::shared_ptr<spdlog::logger> logger();

/// The configured gateway `id`, nullptr when there is none.
const config::GatewayConfig* find_gateway(const PipelineOptions& options, const std::string& id);

}  // namespace detail

struct Pipeline::InFlight {
  journal::Job job;
  JobRequest request;
  std::vector<std::string> destinations;
  WorkerProcess* worker = nullptr;
  std::chrono::steady_clock::time_point started;
  Status sent;
};

struct Pipeline::Finished {
  journal::Job job;
  JobRequest request;
  std::vector<std::string> destinations;
  JobReply reply;
  long long elapsed_ms = 0;
};

struct Pipeline::Committing {
  Finished finished;
  std::future<Status> durable;  // fsync, rename and folder fsyncs of the result, running while the worker works on
};

}  // namespace creni::pipeline
