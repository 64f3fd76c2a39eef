// The retention sweeper's figures on /metrics: read at scrape time from RetentionStats, none before a sweep.
#include "creni/metrics/retention_metrics.hpp"

#include <gtest/gtest.h>

#include "exposition_lines.hpp"

namespace creni::metrics {
namespace {

TEST(MetricsRegistry, retention_has_no_sample_before_the_first_sweep) {
  Registry registry;
  registry.add_collector([] { return retention_families(retention::RetentionStats{}, 1'000'000); });
  EXPECT_EQ(registry.exposition().find("creni_retention_"), std::string::npos) << registry.exposition();
}

TEST(MetricsRegistry, retention_shows_areas_the_last_sweep_and_totals_since_start) {
  retention::RetentionStats stats;
  stats.sweeps = 3;
  stats.areas.output.bytes = 4'000'000;
  stats.areas.output.files = 120;
  stats.areas.quarantine.bytes = 5'000;
  stats.areas.quarantine.files = 2;
  stats.areas.journal.bytes = 81'920;
  stats.areas.journal.files = 2;
  stats.areas.journal_jobs = 77;
  stats.areas.journal_forwards = 5;
  stats.areas.measured_ms = 1'700'000'010'000;
  stats.last_sweep.started_ms = 1'700'000'000'000;
  stats.last_sweep.duration_ms = 250;
  stats.last_sweep.results_removed = 9;
  stats.last_sweep.result_bytes_removed = 300'000;
  stats.last_sweep.archive_files_removed = 4;
  stats.last_sweep.jobs_pruned = 11;
  stats.last_sweep.undelivered_kept = 2;
  stats.totals = stats.last_sweep;
  stats.totals.results_removed = 40;
  stats.totals.jobs_pruned = 30;
  Registry registry;
  registry.add_collector([stats] { return retention_families(stats, 1'700'000'040'000); });
  const std::string text = registry.exposition();
  EXPECT_TRUE(has_line(text, "# TYPE creni_retention_area_bytes gauge")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_area_bytes{area="output"} 4000000)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_area_files{area="output"} 120)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_area_bytes{area="quarantine"} 5000)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_area_bytes{area="journal"} 81920)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_area_files{area="archive"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_journal_rows{table="jobs"} 77)")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_areas_age_seconds 30")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_last_sweep_removed_files{area="output"} 9)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_last_sweep_removed_files{area="archive"} 4)")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_last_sweep_removed_bytes{area="output"} 300000)")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_last_sweep_pruned_rows 11")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_last_sweep_duration_seconds 0.25")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_last_sweep_timestamp_seconds 1700000000")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_undelivered_kept 2")) << text;
  EXPECT_TRUE(has_line(text, "# TYPE creni_retention_sweeps_total counter")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_sweeps_total 3")) << text;
  EXPECT_TRUE(has_line(text, R"(creni_retention_removed_files_total{area="output"} 40)")) << text;
  EXPECT_TRUE(has_line(text, "creni_retention_pruned_rows_total 30")) << text;
}

}  // namespace
}  // namespace creni::metrics
