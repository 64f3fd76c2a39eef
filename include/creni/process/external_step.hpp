#pragma once

#include <memory>
#include <string>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/process/contained_command.hpp"
#include "creni/process/processor.hpp"
#include "creni/process/provenance.hpp"

namespace creni::process {

/// Step "external": hands each image to a separately installed module ([inference.external]) and continues with
/// what it returns. Per image, in a fresh private folder (mode 0700, removed afterwards):
///  1. writes the image as input.dcm (Explicit VR Little Endian, pixel data decoded) and settings.json
///     ({"contract": 1, "input": path, "output": path, "result": path, "marker": text, "parameters": {...}});
///  2. runs command + [input path, output path, settings path] with run_contained(): no shell, a clean environment
///     (PATH=/usr/local/bin:/usr/bin:/bin, HOME and TMPDIR = the folder, LANG=C.UTF-8, plus `environment`), the
///     folder as working directory, the time and memory limits. Only paths of our own making are passed: no DICOM
///     string ever reaches the command line or the environment;
///  3. requires exit status 0 and output.dcm: valid DICOM with the same SOP Class and SOP Instance UID as the input;
///     it replaces the image (pixel data decoded again if the module compressed it);
///  4. reads result.json when the module wrote one: {"findings": [{"label": "nodule", "score": 0.93}, ...]}
///     (labels 1-64 printable ASCII without backslash, scores 0..1, at most 64 findings); they join the findings
///     like those of "infer", with provenance (see provenance.hpp).
/// Errors: "external_failed" for everything the module did wrong (non-zero exit, killed, timeout, no or invalid
/// output, another instance, invalid result.json), with the module's stderr tail in the message; "io_error" when
/// the folder or the input cannot be written. Not thread-safe (one per ProcessingChain).
class ExternalStep final : public Processor {
 public:
  ExternalStep(config::ExternalModuleConfig module, config::ProcessingConfig processing, AlgorithmIdentity algorithm);

  [[nodiscard]] std::string_view name() const override { return "external"; }
  [[nodiscard]] bool needs_pixels() const override { return true; }
  [[nodiscard]] Status apply(ProcessingContext& context) override;

 private:
  config::ExternalModuleConfig module_;
  config::ProcessingConfig processing_;
  AlgorithmIdentity algorithm_;
  std::vector<std::string> environment_;
  CommandLimits limits_;
};

/// The "external" step of [inference.external] with the limits of [processing] (timeout_s 0 = job_timeout_s,
/// memory_mb 0 = worker_memory_mb). Error "invalid_config" when the command is empty or its program is not an
/// absolute path to an executable file.
[[nodiscard]] Result<std::unique_ptr<Processor>> make_external_step(const config::ProcessingConfig& processing,
                                                                    const config::InferenceConfig& inference);

/// Findings from the text of a result.json ({"findings": [{"label": "x", "score": 0.9}]}). Error
/// "external_failed" naming what is wrong.
[[nodiscard]] Result<std::vector<Finding>> parse_result_json(const std::string& text);

}  // namespace creni::process
