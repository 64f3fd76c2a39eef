#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/journal/series_records.hpp"
#include "creni/process/series_module.hpp"
#include "creni/process/series_report.hpp"

namespace creni::series {

/// What a series job needs to know about its gateway.
struct SeriesJobSettings {
  config::SeriesConfig series;                     ///< the gateway's effective [series]
  config::OutputLayout layout = config::OutputLayout::nested;
  std::filesystem::path output_root;               ///< OUTPUT/gateway_<id>
  std::string marker = "ScreenedByAI";             ///< [processing] marker, for the report's description
};

/// The report of one run: its identities (deterministic: the same run gives the same report) and its content.
/// The report joins the study of the run's results (derived, or the original with [output] study =
/// "original"), in a series of its own, and references the results (what the PACS holds).
/// `findings` name instances by the UIDs the module saw (original or result); they are mapped to the results.
[[nodiscard]] process::SeriesReportContent report_content(const journal::SeriesRun& run,
                                                          const std::vector<process::SeriesFinding>& findings,
                                                          const std::vector<process::AlgorithmIdentity>& algorithms,
                                                          const std::string& marker);

/// The instances of a run as a series module sees them: each job's input file where it still exists (the
/// instance as received), else its result.
[[nodiscard]] process::SeriesModuleInput module_input(const journal::SeriesRun& run);

/// Runs the steps of a complete run and writes its report into OUTPUT. Owned by one thread; not thread-safe.
class SeriesJob {
 public:
  /// `steps`: one module per entry of settings.series.steps, in that order ("external": SeriesModule::make;
  /// "infer": make_series_infer_step).
  SeriesJob(SeriesJobSettings settings, std::vector<process::SeriesModule> steps);

  /// The steps, then the report (every step's findings and algorithm), durable at its final path. Errors: the
  /// steps' ("external_failed", "inference_failed", "io_error"), the report's ("invalid_report", "io_error", ...).
  [[nodiscard]] Result<journal::SeriesReport> run(const journal::SeriesRun& run) const;

 private:
  SeriesJobSettings settings_;
  std::vector<process::SeriesModule> steps_;
};

}  // namespace creni::series
