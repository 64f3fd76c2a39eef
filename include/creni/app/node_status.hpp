#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "creni/http/api_documents.hpp"

namespace creni::app {

/// What a running node publishes about itself in <state>/node-status.json (every 2 s), for `creni-node status`,
/// which runs in another process and otherwise only sees the journal. Counters are since the node started.
struct NodeStatus {
  std::int64_t pid = 0;
  std::int64_t started_ms = 0;          ///< unix epoch ms
  std::int64_t updated_ms = 0;          ///< unix epoch ms of this snapshot
  std::int64_t workers = 0;
  std::int64_t scp_port = 0;            ///< 0 when the SCP is off
  std::int64_t active_associations = 0;
  std::int64_t images_received = 0;     ///< C-STOREs acknowledged with success
  std::int64_t files_taken = 0;         ///< files the folder door handed over
  std::int64_t images_written = 0;
  std::int64_t images_inferred = 0;
  std::int64_t inference_us = 0;        ///< total model time over images_inferred
};

/// The snapshot as one JSON object (numbers only): the "node" member of `status --json` and /api/status.
[[nodiscard]] http::Json to_document(const NodeStatus& status);
/// to_document() as text.
[[nodiscard]] std::string to_json(const NodeStatus& status);

/// The snapshot in `file`, or nullopt when there is none or it cannot be read (no node ran there yet).
[[nodiscard]] std::optional<NodeStatus> read_node_status(const std::filesystem::path& file);

/// Whether the snapshot comes from a node that is still running (its pid exists and it wrote recently).
[[nodiscard]] bool is_live(const NodeStatus& status, std::int64_t now_ms);

}  // namespace creni::app
