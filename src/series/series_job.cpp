#include "creni/series/series_job.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <sstream>

#include "creni/catalog/catalog.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/common/uid.hpp"
#include "creni/output/output_writer.hpp"

namespace creni::series {

namespace {

constexpr const char* kComprehensiveSr = "1.2.840.10008.5.1.4.1.1.88.33";
constexpr int kReportSeriesNumber = 9000;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("series");
  return named ? named : spdlog::default_logger();
}

// "<table>.<column>=<value>" lines (SeriesMember::header) by "<table>.<column>".
std::map<std::string, std::string> header_values(const std::string& header) {
  std::map<std::string, std::string> values;
  std::istringstream lines(header);
  std::string line;
  while (std::getline(lines, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) values.emplace(line.substr(0, equals), line.substr(equals + 1));
  }
  return values;
}

std::string value_or(const std::map<std::string, std::string>& values, const std::string& key, std::string fallback) {
  const auto found = values.find(key);
  return found == values.end() || found->second.empty() ? fallback : found->second;
}

// Adds the report to OUTPUT/gateway_<id>/image.db like every result, for whatever delivers OUTPUT onward.
// Idempotent (a report written again updates its rows); a locked or broken index never holds the report back.
void index_report(const std::filesystem::path& report, const std::filesystem::path& index, const std::string& gateway_id) {
  auto record = catalog::record_from_file(report);
  auto catalog = record ? catalog::Catalog::open_for_writing(index) : Result<std::unique_ptr<catalog::Catalog>>(record.error());
  const Status indexed = catalog ? catalog.value()->upsert(record.value()) : Status(catalog.error());
  if (!indexed) logger()->warn("gw={} report {} not in {}: {}", gateway_id, report.string(), index.string(), indexed.error().describe());
}

}  // namespace

process::SeriesReportContent report_content(const journal::SeriesRun& run,
                                            const std::vector<process::SeriesFinding>& findings,
                                            const std::vector<process::AlgorithmIdentity>& algorithms,
                                            const std::string& marker) {
  const journal::SeriesRecord& series = run.series;
  const auto header = header_values(series.header);
  process::SeriesReportContent content;
  for (const auto& [key, value] : header) {
    const auto dot = key.find('.');
    const std::string table = key.substr(0, dot);
    if (table == "patient" || table == "study") content.header.emplace_back(key.substr(dot + 1), value);
  }
  content.study_instance_uid = value_or(header, "study.StudyInstanceUID",
                                        uid::derive(uid::Role::study, series.study_instance_uid));
  content.referenced_series_instance_uid = value_or(header, "series.SeriesInstanceUID",
                                                    uid::derive(uid::Role::series, series.series_instance_uid));
  // Deterministic: a run reported again (after a crash) is the same instance; each run its own instance.
  content.series_instance_uid = uid::derive(uid::Role::series, "series-report:" + series.series_instance_uid);
  content.sop_instance_uid = uid::derive(uid::Role::sop_instance, "series-report:" + series.series_instance_uid + ":" +
                                                                      std::to_string(series.run));
  content.series_description = marker + " report: " + value_or(header, "series.SeriesDescription", "series");
  content.series_number = kReportSeriesNumber;
  content.instance_number = series.run;
  content.algorithms = algorithms;

  std::map<std::string, std::string> to_result;  // the UID a module may name -> the result's UID
  for (const auto& instance : run.instances) {
    content.instances.push_back({instance.sop_class_uid, instance.result_sop_instance_uid});
    to_result[instance.sop_instance_uid] = instance.result_sop_instance_uid;
    to_result[instance.result_sop_instance_uid] = instance.result_sop_instance_uid;
  }
  for (process::SeriesFinding finding : findings) {
    for (auto& named : finding.instances) {
      const auto found = to_result.find(named);
      if (found != to_result.end()) named = found->second;
    }
    content.findings.push_back(std::move(finding));
  }
  return content;
}

process::SeriesModuleInput module_input(const journal::SeriesRun& run) {
  process::SeriesModuleInput input;
  input.gateway_id = run.series.gateway_id;
  input.study_instance_uid = run.series.study_instance_uid;
  input.series_instance_uid = run.series.series_instance_uid;
  input.run = run.series.run;
  for (const auto& instance : run.instances) {
    std::error_code error;
    const bool original = !instance.input_path.empty() && std::filesystem::is_regular_file(instance.input_path, error);
    input.instances.push_back(process::SeriesModuleInstance{
        original ? instance.input_path : instance.output_path, instance.sop_class_uid,
        original ? instance.sop_instance_uid : instance.result_sop_instance_uid, instance.instance_number,
        instance.image_position, instance.image_orientation, instance.rows, instance.columns, instance.pixel_spacing});
  }
  return input;
}

SeriesJob::SeriesJob(SeriesJobSettings settings, std::vector<process::SeriesModule> steps)
    : settings_(std::move(settings)), steps_(std::move(steps)) {}

Result<journal::SeriesReport> SeriesJob::run(const journal::SeriesRun& run) const {
  std::vector<process::SeriesFinding> findings;
  std::vector<process::AlgorithmIdentity> algorithms;
  for (const process::SeriesModule& step : steps_) {
    auto found = step.run(module_input(run));
    if (!found) return found.error();
    findings.insert(findings.end(), found->findings.begin(), found->findings.end());
    algorithms.push_back(found->algorithm);
  }
  const process::SeriesReportContent content = report_content(run, findings, algorithms, settings_.marker);
  dicom::InstanceIdentity identity;
  identity.sop_class_uid = kComprehensiveSr;
  identity.sop_instance_uid = content.sop_instance_uid;
  identity.study_instance_uid = content.study_instance_uid;
  identity.series_instance_uid = content.series_instance_uid;
  auto relative = output::relative_output_path(settings_.layout, identity);
  if (!relative) return relative.error();
  const auto path = settings_.output_root / relative.value();
  if (Status made = fs::create_directories_durably(path.parent_path()); !made) return made.error();
  if (Status written = process::write_series_report(content, path); !written) return written.error();
  index_report(path, settings_.output_root / "image.db", run.series.gateway_id);

  std::vector<process::Finding> flat;
  for (const auto& finding : content.findings) flat.push_back(process::Finding{finding.label, finding.score});
  const std::string summary = std::to_string(run.instances.size()) + " instance(s): " + process::findings_text(flat);
  logger()->info("gw={} series={} run {} reported ({} by {}): {} -> {}", run.series.gateway_id,
                 run.series.series_instance_uid, run.series.run, run.series.received, run.series.completed_by, summary,
                 path.string());
  return journal::SeriesReport{path, content.sop_instance_uid, summary};
}

}  // namespace creni::series
