#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "creni/common/free_space.hpp"
#include "creni/config/node_config.hpp"

namespace creni::retention {

/// Finds a folder's volume (fs::volume_of; tests pass volumes of their own).
using VolumeLookup = std::function<std::optional<fs::Volume>(const std::filesystem::path&)>;

/// Size caps that cannot act before intake stops: per volume (OUTPUT's and the state folder's, added up when they
/// share one), the configured gateways' output_max_bytes and quarantine_max_bytes plus the journal's present size
/// against the volume's size less [node] min_free_mb. Such caps are never reached: free space falls below the
/// watermark first, and intake stops (0xA700, folder door paused). One readable warning per volume where that is
/// so; none when no cap is set (ages alone bound nothing by size) or a volume cannot be asked.
[[nodiscard]] std::vector<std::string> capacity_warnings(const config::NodeConfig& config,
                                                         const VolumeLookup& volume_of = fs::volume_of);

}  // namespace creni::retention
