#include "creni/retention/retention_stats.hpp"

#include <fstream>
#include <regex>
#include <sstream>
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

std::string report_json(const SweepReport& report) {
  std::ostringstream out;
  out << "{";
  bool first = true;
  for (const auto& [name, member] : report_fields()) {
    out << (first ? "" : ",") << "\"" << name << "\":" << report.*member;
    first = false;
  }
  out << "}";
  return out.str();
}

// The object that follows "name": in `json` (objects here are flat: no nested braces).
std::optional<std::string> object_named(const std::string& json, const std::string& name) {
  const auto key = json.find("\"" + name + "\":{");
  if (key == std::string::npos) return std::nullopt;
  const auto open = json.find('{', key);
  const auto close = json.find('}', open);
  if (close == std::string::npos) return std::nullopt;
  return json.substr(open, close - open + 1);
}

std::optional<std::int64_t> number_named(const std::string& json, const std::string& name) {
  std::smatch match;
  if (!std::regex_search(json, match, std::regex("\"" + name + "\":(-?[0-9]+)"))) return std::nullopt;
  return std::stoll(match[1]);
}

std::optional<SweepReport> read_report(const std::string& json, const std::string& name) {
  const auto object = object_named(json, name);
  if (!object) return std::nullopt;
  SweepReport report;
  for (const auto& [field, member] : report_fields()) {
    const auto value = number_named(*object, field);
    if (!value) return std::nullopt;
    report.*member = *value;
  }
  return report;
}

}  // namespace

std::string to_json(const RetentionStats& stats) {
  std::ostringstream out;
  out << "{\"sweeps\":" << stats.sweeps << ",\"areas\":{";
  for (const auto& [name, member] : area_fields()) {
    const AreaUsage& usage = stats.areas.*member;
    out << "\"" << name << "_bytes\":" << usage.bytes << ",\"" << name << "_files\":" << usage.files << ",";
  }
  out << "\"journal_jobs\":" << stats.areas.journal_jobs << ",\"journal_forwards\":" << stats.areas.journal_forwards
      << "},\"last_sweep\":" << report_json(stats.last_sweep) << ",\"totals\":" << report_json(stats.totals) << "}";
  return out.str();
}

std::optional<RetentionStats> read_retention_stats(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const std::string json = text.str();
  RetentionStats stats;
  const auto sweeps = number_named(json, "sweeps");
  const auto areas = object_named(json, "areas");
  auto last = read_report(json, "last_sweep");
  auto totals = read_report(json, "totals");
  if (!sweeps || !areas || !last || !totals) return std::nullopt;
  stats.sweeps = *sweeps;
  for (const auto& [name, member] : area_fields()) {
    const auto bytes = number_named(*areas, std::string(name) + "_bytes");
    const auto files = number_named(*areas, std::string(name) + "_files");
    if (!bytes || !files) return std::nullopt;
    stats.areas.*member = AreaUsage{*bytes, *files};
  }
  stats.areas.journal_jobs = number_named(*areas, "journal_jobs").value_or(0);
  stats.areas.journal_forwards = number_named(*areas, "journal_forwards").value_or(0);
  stats.last_sweep = *last;
  stats.totals = *totals;
  return stats;
}

}  // namespace creni::retention
