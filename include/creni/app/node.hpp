#pragma once

#include <memory>
#include <optional>
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

  /// Errors: "invalid_config" (input, output and state folders overlap), "io_error" (folders), "locked" (another
  /// node uses the state folder or INPUT), "journal_replaced", journal and SCP start errors.
  [[nodiscard]] Status start();
  /// Stops intake first, lets running jobs finish within the job timeout, then everything else. Idempotent.
  void stop();
  /// Why the running node must stop on its own ("journal_replaced"), or nullopt. When it happens the node sends
  /// itself SIGTERM, so that `run` stops it in order and then exits with this error.
  [[nodiscard]] std::optional<Error> failure() const;

  /// The retention sweeper's figures (areas, last sweep, totals): a plain value for status and metrics. Empty
  /// (no sweep) when the node is not running. Thread-safe while the node runs.
  [[nodiscard]] retention::RetentionStats retention_stats() const;

 private:
  struct Parts;
  config::NodeConfig config_;
  std::vector<std::string> worker_command_;
  std::unique_ptr<Parts> parts_;
  std::optional<Error> failure_;  // kept by stop() once the parts are gone
};

}  // namespace creni::app
