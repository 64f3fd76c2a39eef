#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/journal/operator_change.hpp"

namespace creni::app {

/// Options shared by the commands that read the configuration.
struct CommonOptions {
  std::filesystem::path config_file;
  std::string log_format = "text";
  std::string log_level;  ///< empty = [node] log_level
  std::filesystem::path input_dir;
  std::filesystem::path output_dir;
  std::filesystem::path state_dir;
  std::uint16_t port = 0;
  std::string http_listen;  ///< empty = [http] listen
  std::filesystem::path http_token_file;  ///< empty = [http] token_file

  /// The configuration: the file (or the embedded defaults) with the command-line overrides applied, validated.
  [[nodiscard]] Result<config::NodeConfig> load() const;
  /// Sets up logging with the command-line level, else the configured one.
  void start_logging(const std::string& configured_level) const;
};

struct ProcessOptions {
  std::filesystem::path input;
  std::filesystem::path output;
};

struct RunOptions {};

struct StatusOptions {
  bool json = false;
};

/// Jobs an operator command acts on: ids, and/or every job in one state.
struct JobSelection {
  std::vector<std::int64_t> job_ids;
  std::string state;
};

/// reprocess, discard or resend: the same change the HTTP API makes.
using JobChange = journal::JobChange;

/// A DICOM peer for `echo` and `send`.
struct PeerOptions {
  std::string host;
  std::uint16_t port = 104;
  std::string calling_ae_title = "CRENI";
  std::string called_ae_title = "ANY-SCP";
  int timeout_s = 30;
  std::vector<std::filesystem::path> tls_trusted_certificates;  ///< non-empty: DICOM TLS, never plain TCP
  std::filesystem::path tls_certificate;
  std::filesystem::path tls_private_key;
};

/// Each returns a process exit code (see ExitCode in cli.hpp).
int command_version();
int command_process(const CommonOptions& common, const ProcessOptions& options);
int command_run(const CommonOptions& common, const RunOptions& options);
int command_worker(const CommonOptions& common);

/// Internal: `creni-node series-infer SETTINGS [INSTANCES SERIES.json RESULT.json]`, the series step "infer" in
/// its contained process (process::run_series_inference; with SETTINGS only, process::check_series_inference).
/// Exit 0, else 1 with the reason on stderr; 2 for a wrong number of paths.
int command_series_infer(const std::vector<std::string>& paths);
int command_status(const CommonOptions& common, const StatusOptions& options);
int command_change_jobs(const CommonOptions& common, const JobSelection& selection, JobChange change);
int command_echo(const PeerOptions& peer);
int command_send(const PeerOptions& peer, const std::vector<std::filesystem::path>& files);

}  // namespace creni::app
