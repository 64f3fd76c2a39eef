#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "creni/config/node_config.hpp"

namespace creni::app {

/// `status`: bytes and files per area (as the last sweep measured them, with their age; measured now before any
/// sweep was published) and what the node's last retention sweep did (from
/// <state>/retention-status.json), as text lines.
void print_retention_text(std::ostream& out, const config::NodeConfig& config);

/// The same as one JSON object: {"areas":{"output":{"bytes":N,"files":N},...},"areas_measured_by":"sweeper" or
/// "status","areas_age_s":N,"sweeper":<published stats or null>}.
[[nodiscard]] nlohmann::ordered_json retention_document(const config::NodeConfig& config);

}  // namespace creni::app
