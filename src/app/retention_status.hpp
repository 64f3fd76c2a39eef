#pragma once

#include <ostream>

#include "creni/config/node_config.hpp"

namespace creni::app {

/// `status`: bytes and files per area (measured now) and what the node's last retention sweep did (from
/// <state>/retention-status.json), as text lines.
void print_retention_text(std::ostream& out, const config::NodeConfig& config);

/// The same as one JSON object: {"areas":{...},"limits":{...},"sweeper":<published stats or null>}.
void print_retention_json(std::ostream& out, const config::NodeConfig& config);

}  // namespace creni::app
