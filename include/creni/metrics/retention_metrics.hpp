#pragma once

#include <cstdint>
#include <vector>

#include "creni/metrics/registry.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::metrics {

/// The retention sweeper's figures as families read at scrape time (no sample before the node's first sweep):
/// what each area holds (creni_retention_area_bytes{area}, creni_retention_area_files{area}, area output, archive,
/// quarantine, spool, journal; creni_retention_journal_rows{table}; creni_retention_areas_age_seconds), what the
/// last sweep did (creni_retention_last_sweep_removed_files{area}, _removed_bytes{area}, _pruned_rows,
/// _reclaimed_pages, _errors, _duration_seconds, _timestamp_seconds; creni_retention_undelivered_kept) and what
/// every sweep since the start removed (creni_retention_sweeps_total, creni_retention_removed_files_total{area},
/// creni_retention_removed_bytes_total{area}, creni_retention_pruned_rows_total, creni_retention_errors_total).
/// `now_ms`: unix epoch ms, for the age of the area figures.
[[nodiscard]] std::vector<Family> retention_families(const retention::RetentionStats& stats, std::int64_t now_ms);

}  // namespace creni::metrics
