#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "creni/config/node_config.hpp"
#include "creni/journal/series_records.hpp"

namespace creni::series {

/// Which completion signal holds for an open run at `now_ms` (unix epoch ms), the first of, in this order:
///  - "expected_count": the expected count is known and reached;
///  - "release": `complete_on_release` and the association that carried its last instance has ended with none
///    of its arrivals still waiting to be processed;
///  - "idle": no instance for `idle` seconds (since its last instance was written);
///  - "max_wait": `max_wait` seconds since its first instance.
/// nullopt while none holds. The times are the journal's wall-clock times, so a restart continues the same
/// timers; if the clock was set back past them, the run counts as idle (as retries do, RELIABILITY D5).
[[nodiscard]] std::optional<std::string> completion_signal(const journal::SeriesRecord& run,
                                                           const config::SeriesConfig& config, std::int64_t now_ms);

}  // namespace creni::series
