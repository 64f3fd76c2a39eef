#include "creni/metrics/retention_metrics.hpp"

#include <string>
#include <utility>

namespace creni::metrics {

namespace {

using retention::AreaFigures;
using retention::AreaUsage;
using retention::SweepReport;

constexpr std::pair<const char*, AreaUsage AreaFigures::*> kAreas[] = {{"output", &AreaFigures::output},
                                                                       {"archive", &AreaFigures::archive},
                                                                       {"quarantine", &AreaFigures::quarantine},
                                                                       {"spool", &AreaFigures::spool},
                                                                       {"journal", &AreaFigures::journal}};

// What a sweep removes, per area: files (output: results) and, where the sweeper counts them, bytes.
constexpr std::pair<const char*, std::int64_t SweepReport::*> kRemovedFiles[] = {
    {"output", &SweepReport::results_removed},
    {"archive", &SweepReport::archive_files_removed},
    {"quarantine", &SweepReport::quarantine_files_removed},
    {"spool", &SweepReport::spool_files_removed}};
constexpr std::pair<const char*, std::int64_t SweepReport::*> kRemovedBytes[] = {
    {"output", &SweepReport::result_bytes_removed},
    {"archive", &SweepReport::archive_bytes_removed},
    {"quarantine", &SweepReport::quarantine_bytes_removed}};

Family family(std::string name, std::string help, Kind kind) { return Family{std::move(name), std::move(help), kind, {}}; }

void add(Family& family, double value, Labels labels = {}) { family.samples.push_back(Sample{std::move(labels), value}); }

template <std::size_t N>
Family per_area(std::string name, std::string help, Kind kind, const SweepReport& report,
                const std::pair<const char*, std::int64_t SweepReport::*> (&fields)[N]) {
  Family out = family(std::move(name), std::move(help), kind);
  for (const auto& [area, member] : fields) add(out, static_cast<double>(report.*member), {{"area", area}});
  return out;
}

Family single(std::string name, std::string help, Kind kind, double value) {
  Family out = family(std::move(name), std::move(help), kind);
  add(out, value);
  return out;
}

}  // namespace

std::vector<Family> retention_families(const retention::RetentionStats& stats, std::int64_t now_ms) {
  if (stats.sweeps == 0) return {};  // nothing measured yet: no sample rather than zeros that look like figures
  Family bytes = family("creni_retention_area_bytes", "Bytes each area holds, measured by the last retention sweep",
                        Kind::gauge);
  Family files = family("creni_retention_area_files", "Files each area holds, measured by the last retention sweep",
                        Kind::gauge);
  for (const auto& [area, member] : kAreas) {
    add(bytes, static_cast<double>((stats.areas.*member).bytes), {{"area", area}});
    add(files, static_cast<double>((stats.areas.*member).files), {{"area", area}});
  }
  Family rows = family("creni_retention_journal_rows", "Rows per journal table, counted by the last retention sweep",
                       Kind::gauge);
  add(rows, static_cast<double>(stats.areas.journal_jobs), {{"table", "jobs"}});
  add(rows, static_cast<double>(stats.areas.journal_forwards), {{"table", "forwards"}});

  const SweepReport& last = stats.last_sweep;
  const SweepReport& totals = stats.totals;
  return {
      std::move(bytes),
      std::move(files),
      std::move(rows),
      single("creni_retention_areas_age_seconds", "Seconds since the area figures were measured", Kind::gauge,
             static_cast<double>(now_ms - stats.areas.measured_ms) / 1000.0),
      per_area("creni_retention_last_sweep_removed_files",
               "Files the last retention sweep removed per area (output: results)", Kind::gauge, last, kRemovedFiles),
      per_area("creni_retention_last_sweep_removed_bytes", "Bytes the last retention sweep removed per area",
               Kind::gauge, last, kRemovedBytes),
      single("creni_retention_last_sweep_pruned_rows", "Journal rows of finished jobs the last retention sweep removed",
             Kind::gauge, static_cast<double>(last.jobs_pruned)),
      single("creni_retention_last_sweep_reclaimed_pages",
             "Journal pages the last retention sweep gave back to the file system", Kind::gauge,
             static_cast<double>(last.pages_reclaimed)),
      single("creni_retention_last_sweep_errors", "Files or rows the last retention sweep could not remove",
             Kind::gauge, static_cast<double>(last.errors)),
      single("creni_retention_last_sweep_duration_seconds", "How long the last retention sweep took", Kind::gauge,
             static_cast<double>(last.duration_ms) / 1000.0),
      single("creni_retention_last_sweep_timestamp_seconds", "When the last retention sweep started (unix time)",
             Kind::gauge, static_cast<double>(last.started_ms) / 1000.0),
      single("creni_retention_undelivered_kept", "Results past output_max_age kept because not yet delivered",
             Kind::gauge, static_cast<double>(last.undelivered_kept)),
      single("creni_retention_sweeps_total", "Retention sweeps since the start", Kind::counter,
             static_cast<double>(stats.sweeps)),
      per_area("creni_retention_removed_files_total", "Files retention removed since the start per area",
               Kind::counter, totals, kRemovedFiles),
      per_area("creni_retention_removed_bytes_total", "Bytes retention removed since the start per area",
               Kind::counter, totals, kRemovedBytes),
      single("creni_retention_pruned_rows_total", "Journal rows of finished jobs retention removed since the start",
             Kind::counter, static_cast<double>(totals.jobs_pruned)),
      single("creni_retention_errors_total", "Files or rows retention could not remove since the start",
             Kind::counter, static_cast<double>(totals.errors)),
  };
}

}  // namespace creni::metrics
