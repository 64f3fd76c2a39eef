#pragma once

#include "creni/config/node_config.hpp"

namespace creni::pipeline {

/// The body of a worker process (`creni-node worker`): applies its own resource limits (address space
/// [processing] worker_memory_mb, no core dumps), registers the codecs, builds the processing chain, announces
/// READY on `out_fd`, then answers every JOB line read from `in_fd` with DONE or FAIL until `in_fd` closes.
/// Everything that decodes untrusted pixel data runs here, never in the node process: a crash or hang costs the
/// node one worker, which it replaces. Returns the process exit code.
int run_worker_loop(const config::NodeConfig& config, int in_fd, int out_fd);

}  // namespace creni::pipeline
