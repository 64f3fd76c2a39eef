#pragma once

#include <filesystem>
#include <string_view>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"

namespace creni::app {

/// The configuration used when no file is given: watch ./INPUT, SCP on port 11112, write ./OUTPUT, journal under
/// ./state, forwarding off, one gateway "1" that also receives every SCP association whatever its calling AE
/// (scp.default_gateway = "1"; a development convenience that a production config file replaces).
[[nodiscard]] config::NodeConfig embedded_defaults();

/// Parses TOML text into a NodeConfig, starting from the struct defaults (no gateways, no default gateway).
/// Unknown keys, wrong types and impossible values are refused; the message names the key and the source
/// (e.g. "creni-node.toml: scp.port: must be between 1 and 65535, got 0"). Error code "invalid_config".
[[nodiscard]] Result<config::NodeConfig> parse_config(std::string_view toml_text, std::string_view source_name);

/// Reads and parses a config file (see parse_config). Error "invalid_config" also for a missing/unreadable file.
[[nodiscard]] Result<config::NodeConfig> load_config_file(const std::filesystem::path& path);

}  // namespace creni::app
