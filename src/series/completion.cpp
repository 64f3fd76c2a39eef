#include "creni/series/completion.hpp"

namespace creni::series {

std::optional<std::string> completion_signal(const journal::SeriesRecord& run, const config::SeriesConfig& config,
                                             std::int64_t now_ms) {
  if (run.expected > 0 && run.received >= run.expected) return "expected_count";
  if (config.complete_on_release && run.association_ended && run.association_pending == 0) return "release";
  const auto idle_ms = static_cast<std::int64_t>(config.idle_s * 1000.0);
  const auto max_wait_ms = static_cast<std::int64_t>(config.max_wait_s * 1000.0);
  if (now_ms < run.last_arrival_ms) return "idle";  // the clock went back: waiting longer would be arbitrary
  if (now_ms - run.last_arrival_ms >= idle_ms) return "idle";
  if (now_ms - run.first_arrival_ms >= max_wait_ms) return "max_wait";
  return std::nullopt;
}

}  // namespace creni::series
