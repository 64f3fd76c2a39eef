#include "retention_status.hpp"

#include <optional>

#include "creni/common/clock.hpp"
#include "creni/retention/area_usage.hpp"

namespace creni::app {

namespace {

constexpr std::pair<const char*, retention::AreaUsage retention::AreaFigures::*> kAreas[] = {
    {"output", &retention::AreaFigures::output},
    {"archive", &retention::AreaFigures::archive},
    {"quarantine", &retention::AreaFigures::quarantine},
    {"spool", &retention::AreaFigures::spool},
    {"journal", &retention::AreaFigures::journal}};

std::string megabytes(std::int64_t bytes) {
  return std::to_string(bytes / 1'000'000) + "." + std::to_string(bytes % 1'000'000 / 100'000) + " MB";
}

// The area figures status shows: the ones the sweeper published at the end of its last sweep when there are any
// (walking a large OUTPUT at every `status` would cost more than the sweeper's walk it repeats), else measured now.
struct ShownAreas {
  retention::AreaFigures areas;
  bool from_sweeper = false;
  std::int64_t age_s = 0;  // since they were measured
};

ShownAreas shown_areas(const config::NodeConfig& config, const std::optional<retention::RetentionStats>& published) {
  ShownAreas shown;
  if (published && published->sweeps > 0 && published->areas.measured_ms > 0) {
    const std::int64_t age_ms = unix_time_ms() - published->areas.measured_ms;
    shown.areas = published->areas;
    shown.from_sweeper = true;
    shown.age_s = age_ms > 0 ? age_ms / 1000 : 0;
    return shown;
  }
  shown.areas = retention::measure_areas(config);
  shown.from_sweeper = false;
  shown.age_s = 0;
  return shown;
}

std::optional<retention::RetentionStats> published_stats(const config::NodeConfig& config) {
  return retention::read_retention_stats(config.state_dir / "retention-status.json");
}

}  // namespace

void print_retention_text(std::ostream& out, const config::NodeConfig& config) {
  const auto published = published_stats(config);
  const auto shown = shown_areas(config, published);
  if (shown.from_sweeper) {
    out << "disk (measured by the last retention sweep, " << config::format_duration(shown.age_s) << " ago):\n";
  } else {
    out << "disk (measured now, no retention sweep published yet):\n";
  }
  for (const auto& [name, member] : kAreas) {
    const auto& usage = shown.areas.*member;
    out << "  " << name << "  " << megabytes(usage.bytes) << " in " << usage.files << " file(s)\n";
  }
  const auto& limits = config.retention.limits;
  out << "retention: output " << config::format_duration(limits.output_max_age_s) << ", archive "
      << config::format_duration(limits.archive_max_age_s) << ", quarantine "
      << config::format_duration(limits.quarantine_max_age_s) << ", journal "
      << config::format_duration(config.retention.journal_max_age_s) << ", sweep every "
      << config::format_duration(config.retention.sweep_interval_s)
      << (limits.delete_unforwarded ? ", deletes undelivered results" : ", keeps undelivered results") << "\n";
  if (!published || published->sweeps == 0) {
    out << "  last sweep: none yet\n";
    return;
  }
  const auto& last = published->last_sweep;
  out << "  last sweep: " << last.results_removed << " result(s) (" << megabytes(last.result_bytes_removed) << "), "
      << last.archive_files_removed << " archive and " << last.quarantine_files_removed << " quarantine file(s), "
      << last.spool_files_removed << " spool file(s), " << last.jobs_pruned << " journal row(s) removed, "
      << last.pages_reclaimed << " page(s) reclaimed, " << last.undelivered_kept
      << " undelivered result(s) past their age kept, " << last.errors << " error(s), " << last.duration_ms << " ms\n";
  out << "  since start: " << published->sweeps << " sweep(s), " << published->totals.results_removed
      << " result(s) and " << published->totals.jobs_pruned << " journal row(s) removed; journal holds "
      << published->areas.journal_jobs << " job(s), " << published->areas.journal_forwards << " forward(s)\n";
}

nlohmann::ordered_json retention_document(const config::NodeConfig& config) {
  const auto published = published_stats(config);
  const auto shown = shown_areas(config, published);
  nlohmann::ordered_json measured = nlohmann::ordered_json::object();
  for (const auto& [name, member] : kAreas) {
    const auto& usage = shown.areas.*member;
    measured[name] = {{"bytes", usage.bytes}, {"files", usage.files}};
  }
  return {{"areas", measured},
          {"areas_measured_by", shown.from_sweeper ? "sweeper" : "status"},
          {"areas_age_s", shown.age_s},
          {"sweeper", published ? nlohmann::ordered_json(retention::to_document(*published))
                                : nlohmann::ordered_json(nullptr)}};
}

}  // namespace creni::app
