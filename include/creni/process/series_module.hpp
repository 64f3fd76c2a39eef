#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/process/provenance.hpp"
#include "creni/process/series_report.hpp"

namespace creni::process {

/// One instance of a complete series, as laid out for a series module.
struct SeriesModuleInstance {
  std::filesystem::path file;   ///< a DICOM file of the instance (copied into the work folder, never changed)
  std::string sop_class_uid;
  std::string sop_instance_uid; ///< the UID in `file`
  std::string instance_number;  ///< DICOM text, may be empty
  std::string image_position;   ///< "x\y\z", may be empty
  std::string image_orientation;///< six values, may be empty
  std::string rows;
  std::string columns;
  std::string pixel_spacing;
};

/// A complete series run handed to a series module.
struct SeriesModuleInput {
  std::string gateway_id;
  std::string study_instance_uid;
  std::string series_instance_uid;
  int run = 1;
  std::vector<SeriesModuleInstance> instances;
};

/// The position of each instance along the normal of its image plane (ImagePositionPatient projected on
/// row x column direction of ImageOrientationPatient, PS3.3 C.7.6.2.1.1); empty when any instance lacks geometry.
[[nodiscard]] std::vector<double> slice_positions(const std::vector<SeriesModuleInstance>& instances);

/// Which key ordered a stack: the slice position along the normal, InstanceNumber, or the order of arrival.
enum class StackOrder { slice_position, instance_number, arrival };

/// "slice_position", "instance_number" or "arrival" (series.json "order", the report's algorithm parameters).
[[nodiscard]] std::string to_string(StackOrder order);

/// A series as a stack of slices, and what ordered it.
struct SeriesStack {
  std::vector<SeriesModuleInstance> instances;
  StackOrder order = StackOrder::arrival;
};

/// `instances` ordered as a stack: by slice position when every instance has geometry, else by InstanceNumber
/// when every instance has one, else as given (arrival). Stable.
[[nodiscard]] SeriesStack stack_of(std::vector<SeriesModuleInstance> instances);

/// What a series step found, and which algorithm found it (for the report).
struct SeriesStepResult {
  std::vector<SeriesFinding> findings;
  AlgorithmIdentity algorithm;
};

/// Series step "external": runs the module of [series.external] once per complete series. In a fresh private
/// folder below `work_root` (mode 0700, removed afterwards):
///  1. copies every instance to instances/NNNN.dcm, ordered as a stack, and writes series.json:
///     {"contract": 1, "gateway", "study_instance_uid", "series_instance_uid", "run", "count", "order",
///      "instances_folder", "result", "parameters": {...},
///      "instances": [{"file", "sop_class_uid", "sop_instance_uid", "instance_number", "rows", "columns",
///                     "image_position": [x, y, z] | null, "image_orientation": [6] | null,
///                     "pixel_spacing": [r, c] | null, "slice_position": s | null}, ...]};
///  2. runs command + [instances folder, series.json, result.json] with run_contained(), under the same clean
///     environment and limits as the per-image step (timeout_s 0 = processing.job_timeout_s, memory_mb 0 =
///     processing.worker_memory_mb); no DICOM string reaches its command line or environment;
///  3. requires exit status 0 and reads result.json: {"findings": [{"label": "x", "score": 0.9,
///     "instances": ["<sop uid>", ...], "point": [column, row]}, ...]} ("instances" and "point" optional; a
///     point needs an instance: it lies on the first one).
/// Errors: "external_failed" (the module failed, or result.json is missing or invalid; the module's stderr tail
/// in the message), "io_error" (the folder or a copy cannot be written). Thread-safety: run() may be called from
/// one thread at a time.
///
/// The same contract carries the node's own series step "infer" (builtin()): its command is the node's binary, and
/// the path of a settings file written into the work folder comes before the three paths.
class SeriesModule {
 public:
  /// Error "invalid_config" when the command's program is not an absolute path to an executable file.
  [[nodiscard]] static Result<SeriesModule> make(const config::SeriesConfig& series,
                                                 const config::ProcessingConfig& processing,
                                                 std::filesystem::path work_root);

  /// A step of the node itself run through this contract: `settings` is written to settings.json in the work
  /// folder and its path passed after `module.command`; failures are `failure_code` instead of "external_failed";
  /// result.json may carry {"algorithm": {"model_sha256": "...", "details": "..."}}, which completes `algorithm`.
  [[nodiscard]] static SeriesModule builtin(config::ExternalModuleConfig module, config::ProcessingConfig processing,
                                            std::filesystem::path work_root, AlgorithmIdentity algorithm,
                                            std::string settings, std::string failure_code);

  /// The findings and the algorithm (its details name the stack order used).
  [[nodiscard]] Result<SeriesStepResult> run(const SeriesModuleInput& input) const;
  /// step "external", name = the command's last word's stem, version "unversioned" (or parameters "version").
  [[nodiscard]] const AlgorithmIdentity& algorithm() const { return algorithm_; }

 private:
  SeriesModule(config::ExternalModuleConfig module, config::ProcessingConfig processing, std::filesystem::path work_root);
  [[nodiscard]] Result<SeriesStepResult> run_in(const std::filesystem::path& work, const SeriesModuleInput& input) const;

  config::ExternalModuleConfig module_;
  config::ProcessingConfig processing_;
  std::filesystem::path work_root_;
  AlgorithmIdentity algorithm_;
  std::string settings_;      // builtin steps: the text of settings.json; empty for external modules
  std::string failure_code_ = "external_failed";
};

/// Findings from the text of a series result.json; every named instance must be one of `known_instances`.
/// Error "external_failed" naming what is wrong.
[[nodiscard]] Result<std::vector<SeriesFinding>> parse_series_result_json(const std::string& text,
                                                                          const std::vector<std::string>& known_instances);

}  // namespace creni::process
