#pragma once

#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::app {

/// The composition root of the service: builds every component from the configuration, starts them in dependency
/// order (journal and recovery, pipeline, forwarding, then the two doors) and stops them in reverse order, so that
/// nothing is acknowledged that the node cannot keep. Not thread-safe: start() and stop() from the main thread.
class Node {
 public:
  /// `worker_command` is the argv that starts a worker process with the same configuration.
  Node(config::NodeConfig config, std::vector<std::string> worker_command);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  /// Errors: "io_error" (folders), "locked" (another node uses the state folder), journal and SCP start errors.
  [[nodiscard]] Status start();
  /// Stops intake first, lets running jobs finish within the job timeout, then everything else. Idempotent.
  void stop();

  /// The retention sweeper's figures (areas, last sweep, totals): a plain value for status and metrics. Empty
  /// (no sweep) when the node is not running. Thread-safe while the node runs.
  [[nodiscard]] retention::RetentionStats retention_stats() const;

 private:
  struct Parts;
  config::NodeConfig config_;
  std::vector<std::string> worker_command_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace creni::app
