#include "creni/config/retention_config.hpp"

#include <cctype>
#include <limits>
#include <utility>

namespace creni::config {

namespace {

struct Unit {
  const char* suffix;
  std::uint64_t factor;
};

// "<digits><unit>" against a table of units; the product must fit in `max`.
Result<std::uint64_t> parse_with_units(const std::string& text, std::initializer_list<Unit> units, std::uint64_t max,
                                       const std::string& expected) {
  const auto bad = [&] { return make_error("invalid_config", "'" + text + "' is not " + expected); };
  std::size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits])) != 0) ++digits;
  if (digits == 0 || digits > 18) return bad();
  const std::uint64_t number = std::stoull(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  for (const auto& candidate : units) {
    if (unit != candidate.suffix) continue;
    if (number > max / candidate.factor) return make_error("invalid_config", "'" + text + "' is too large");
    return number * candidate.factor;
  }
  return bad();
}

}  // namespace

Result<std::int64_t> parse_duration(const std::string& text) {
  if (text == "off") return kNoAgeLimit;
  auto seconds = parse_with_units(text, {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}, {"w", 7 * 86400}},
                                  std::numeric_limits<std::int64_t>::max() / 1000,
                                  "a duration such as \"45s\", \"15m\", \"12h\", \"30d\", \"2w\" or \"off\"");
  if (!seconds) return seconds.error();
  if (seconds.value() == 0) return make_error("invalid_config", "'" + text + "' is zero: write \"off\" for no limit");
  return static_cast<std::int64_t>(seconds.value());
}

Result<std::uint64_t> parse_size(const std::string& text) {
  if (text == "off") return kNoSizeLimit;
  constexpr std::uint64_t kilo = 1000;
  constexpr std::uint64_t kibi = 1024;
  auto bytes = parse_with_units(text,
                                {{"B", 1}, {"KB", kilo}, {"MB", kilo * kilo}, {"GB", kilo * kilo * kilo},
                                 {"TB", kilo * kilo * kilo * kilo}, {"KiB", kibi}, {"MiB", kibi * kibi},
                                 {"GiB", kibi * kibi * kibi}, {"TiB", kibi * kibi * kibi * kibi}},
                                std::numeric_limits<std::uint64_t>::max(),
                                "a size such as \"500MB\", \"50GB\", \"2GiB\" or \"off\"");
  if (!bytes) return bytes.error();
  if (bytes.value() == 0) return make_error("invalid_config", "'" + text + "' is zero: write \"off\" for no limit");
  return bytes.value();
}

std::string format_duration(std::int64_t seconds) {
  if (seconds == kNoAgeLimit) return "off";
  for (const auto& [suffix, factor] : {std::pair{"w", 7 * 86400}, {"d", 86400}, {"h", 3600}, {"m", 60}}) {
    if (seconds % factor == 0) return std::to_string(seconds / factor) + suffix;
  }
  return std::to_string(seconds) + "s";
}

}  // namespace creni::config

#include "creni/config/node_config.hpp"

namespace creni::config {

const RetentionLimits& NodeConfig::retention_for(const std::string& gateway_id) const {
  const GatewayConfig* gateway = find_gateway(gateway_id);
  return gateway != nullptr && gateway->retention ? *gateway->retention : retention.limits;
}

Status validate_retention(const RetentionConfig& retention) {
  if (retention.sweep_interval_s <= 0) {
    return make_error("invalid_config", "retention.sweep_interval: must be a duration of at least 1s, not \"off\"");
  }
  if (retention.journal_max_age_s < 0 || retention.limits.output_max_age_s < 0 ||
      retention.limits.archive_max_age_s < 0 || retention.limits.quarantine_max_age_s < 0) {
    return make_error("invalid_config", "retention: ages must not be negative");
  }
  return {};
}

}  // namespace creni::config
