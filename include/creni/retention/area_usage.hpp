#pragma once

#include <filesystem>

#include "creni/config/node_config.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::retention {

/// Bytes and regular files below `root` (symbolic links are not followed; a missing root is empty).
[[nodiscard]] AreaUsage measure_tree(const std::filesystem::path& root);

/// Every area of the node configured by `config` (journal rows not counted: those come from the journal).
[[nodiscard]] AreaFigures measure_areas(const config::NodeConfig& config);

}  // namespace creni::retention
