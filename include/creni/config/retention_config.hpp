#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "creni/common/result.hpp"

namespace creni::config {

/// "Never" for an age and "no limit" for a size: the value the text "off" stands for.
inline constexpr std::int64_t kNoAgeLimit = 0;
inline constexpr std::uint64_t kNoSizeLimit = 0;

/// The limits of one gateway's areas ([retention], overridable per gateway in [gateway.retention]).
/// Ages in seconds, sizes in bytes; kNoAgeLimit / kNoSizeLimit (written "off") switch a limit off.
struct RetentionLimits {
  std::int64_t output_max_age_s = 30 * 86400;         ///< output_max_age: results in OUTPUT/gateway_<id>/
  std::uint64_t output_max_bytes = kNoSizeLimit;      ///< output_max_bytes
  std::int64_t archive_max_age_s = 30 * 86400;        ///< archive_max_age: inputs in state/archive/gateway_<id>/
  std::int64_t quarantine_max_age_s = 90 * 86400;     ///< quarantine_max_age: state/quarantine/gateway_<id>/
  std::uint64_t quarantine_max_bytes = kNoSizeLimit;  ///< quarantine_max_bytes
  /// delete_unforwarded: also delete results whose forward is waiting, retrying, failed or unknown
  bool delete_unforwarded = false;
};

/// [retention]: what the node deletes by itself, and how often it looks.
struct RetentionConfig {
  RetentionLimits limits;                      ///< node-wide; a gateway's [gateway.retention] overrides keys of it
  std::int64_t journal_max_age_s = 90 * 86400;  ///< journal_max_age: finished jobs' rows (with their forwards)
  std::int64_t sweep_interval_s = 600;          ///< sweep_interval: time between two sweeps
};

/// Parses a duration written as a whole number and a unit: "45s", "15m", "12h", "30d", "2w"; "off" is
/// kNoAgeLimit. Error "invalid_config" with a message saying what is expected (the caller adds the key).
[[nodiscard]] Result<std::int64_t> parse_duration(const std::string& text);

/// Parses a size written as a whole number and a unit: "500MB", "50GB", "1TB" (powers of 1000), "512MiB",
/// "2GiB" (powers of 1024), "100B", "10KB"; "off" is kNoSizeLimit. Error "invalid_config" as above.
[[nodiscard]] Result<std::uint64_t> parse_size(const std::string& text);

/// Checks values set in code (the TOML reader already refuses what parse_duration/parse_size refuse):
/// sweep_interval must be a duration, ages must not be negative. Error "invalid_config" naming the key.
[[nodiscard]] Status validate_retention(const RetentionConfig& retention);

/// A duration as parse_duration reads it ("30d", "90s", "off"): the largest unit that divides it.
[[nodiscard]] std::string format_duration(std::int64_t seconds);

}  // namespace creni::config
