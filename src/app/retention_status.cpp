#include "retention_status.hpp"

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

}  // namespace

void print_retention_text(std::ostream& out, const config::NodeConfig& config) {
  const auto areas = retention::measure_areas(config);
  out << "disk:\n";
  for (const auto& [name, member] : kAreas) {
    const auto& usage = areas.*member;
    out << "  " << name << "  " << megabytes(usage.bytes) << " in " << usage.files << " file(s)\n";
  }
  const auto& limits = config.retention.limits;
  out << "retention: output " << config::format_duration(limits.output_max_age_s) << ", archive "
      << config::format_duration(limits.archive_max_age_s) << ", quarantine "
      << config::format_duration(limits.quarantine_max_age_s) << ", journal "
      << config::format_duration(config.retention.journal_max_age_s) << ", sweep every "
      << config::format_duration(config.retention.sweep_interval_s)
      << (limits.delete_unforwarded ? ", deletes undelivered results" : ", keeps undelivered results") << "\n";
  const auto published = retention::read_retention_stats(config.state_dir / "retention-status.json");
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
  const auto areas = retention::measure_areas(config);
  nlohmann::ordered_json measured = nlohmann::ordered_json::object();
  for (const auto& [name, member] : kAreas) {
    const auto& usage = areas.*member;
    measured[name] = {{"bytes", usage.bytes}, {"files", usage.files}};
  }
  const auto published = retention::read_retention_stats(config.state_dir / "retention-status.json");
  return {{"areas", measured},
          {"sweeper", published ? nlohmann::ordered_json(retention::to_document(*published))
                                : nlohmann::ordered_json(nullptr)}};
}

}  // namespace creni::app
