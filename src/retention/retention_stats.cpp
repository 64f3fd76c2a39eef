#include "creni/retention/retention_stats.hpp"

#include <fstream>
#include <utility>
#include <vector>

namespace creni::retention {

namespace {

using Field = std::pair<const char*, std::int64_t SweepReport::*>;

std::vector<Field> report_fields() {
  return {{"started_ms", &SweepReport::started_ms},
          {"duration_ms", &SweepReport::duration_ms},
          {"results_removed", &SweepReport::results_removed},
          {"result_bytes_removed", &SweepReport::result_bytes_removed},
          {"archive_files_removed", &SweepReport::archive_files_removed},
          {"archive_bytes_removed", &SweepReport::archive_bytes_removed},
          {"quarantine_files_removed", &SweepReport::quarantine_files_removed},
          {"quarantine_bytes_removed", &SweepReport::quarantine_bytes_removed},
          {"spool_files_removed", &SweepReport::spool_files_removed},
          {"jobs_pruned", &SweepReport::jobs_pruned},
          {"pages_reclaimed", &SweepReport::pages_reclaimed},
          {"undelivered_kept", &SweepReport::undelivered_kept},
          {"errors", &SweepReport::errors}};
}

std::vector<std::pair<const char*, AreaUsage AreaFigures::*>> area_fields() {
  return {{"output", &AreaFigures::output},
          {"archive", &AreaFigures::archive},
          {"quarantine", &AreaFigures::quarantine},
          {"spool", &AreaFigures::spool},
          {"journal", &AreaFigures::journal}};
}

nlohmann::json report_json(const SweepReport& report) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, member] : report_fields()) out[name] = report.*member;
  return out;
}

// Every field of a report, all required: a file missing one is not ours (or from another version).
std::optional<SweepReport> read_report(const nlohmann::json& document, const char* name) {
  const auto object = document.find(name);
  if (object == document.end() || !object->is_object()) return std::nullopt;
  SweepReport report;
  for (const auto& [field, member] : report_fields()) {
    const auto value = object->find(field);
    if (value == object->end() || !value->is_number_integer()) return std::nullopt;
    report.*member = value->get<std::int64_t>();
  }
  return report;
}

}  // namespace

nlohmann::json to_document(const RetentionStats& stats) {
  nlohmann::json areas = nlohmann::json::object();
  for (const auto& [name, member] : area_fields()) {
    const AreaUsage& usage = stats.areas.*member;
    areas[std::string(name) + "_bytes"] = usage.bytes;
    areas[std::string(name) + "_files"] = usage.files;
  }
  areas["journal_jobs"] = stats.areas.journal_jobs;
  areas["journal_forwards"] = stats.areas.journal_forwards;
  areas["measured_ms"] = stats.areas.measured_ms;
  return {{"sweeps", stats.sweeps},
          {"areas", areas},
          {"last_sweep", report_json(stats.last_sweep)},
          {"totals", report_json(stats.totals)}};
}

std::string to_json(const RetentionStats& stats) { return to_document(stats).dump(); }

std::optional<RetentionStats> read_retention_stats(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const nlohmann::json document = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return std::nullopt;
  const auto sweeps = document.find("sweeps");
  const auto areas = document.find("areas");
  auto last = read_report(document, "last_sweep");
  auto totals = read_report(document, "totals");
  if (sweeps == document.end() || !sweeps->is_number_integer() || areas == document.end() || !areas->is_object() ||
      !last || !totals) {
    return std::nullopt;
  }
  RetentionStats stats;
  stats.sweeps = sweeps->get<std::int64_t>();
  const auto number = [&areas](const std::string& key) -> std::optional<std::int64_t> {
    const auto value = areas->find(key);
    if (value == areas->end() || !value->is_number_integer()) return std::nullopt;
    return value->get<std::int64_t>();
  };
  for (const auto& [name, member] : area_fields()) {
    const auto bytes = number(std::string(name) + "_bytes");
    const auto files = number(std::string(name) + "_files");
    if (!bytes || !files) return std::nullopt;
    stats.areas.*member = AreaUsage{*bytes, *files};
  }
  stats.areas.journal_jobs = number("journal_jobs").value_or(0);
  stats.areas.journal_forwards = number("journal_forwards").value_or(0);
  // A file from before measured_ms: the areas were measured when that sweep ended.
  stats.areas.measured_ms = number("measured_ms").value_or(last->started_ms + last->duration_ms);
  stats.last_sweep = *last;
  stats.totals = *totals;
  return stats;
}

}  // namespace creni::retention
