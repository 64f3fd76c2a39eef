#include "creni/app/cli.hpp"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "creni/app/commands.hpp"
#include "creni/app/config_file.hpp"
#include "creni/app/logging.hpp"
#include "contained_identity.hpp"

namespace creni::app {

namespace {

// Options every command shares: where the configuration comes from and how logs look.
void add_common_options(CLI::App& command, CommonOptions& options) {
  command.add_option("--config", options.config_file, "TOML configuration file (default: embedded defaults)")
      ->check(CLI::ExistingFile);
  command.add_option("--log-format", options.log_format, "Log format: text or json")
      ->check(CLI::IsMember({"text", "json"}));
  command.add_option("--log-level", options.log_level, "Log level: trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
}

}  // namespace

Result<config::NodeConfig> CommonOptions::load() const {
  Result<config::NodeConfig> loaded = config_file.empty() ? Result<config::NodeConfig>(embedded_defaults())
                                                          : load_config_file(config_file);
  if (!loaded) return loaded;
  config::NodeConfig config = std::move(loaded).value();
  if (!input_dir.empty()) config.input_dir = input_dir;
  if (!output_dir.empty()) config.output_dir = output_dir;
  if (!state_dir.empty()) config.state_dir = state_dir;
  if (port != 0) config.scp.port = port;
  if (!http_listen.empty()) config.http.listen = http_listen;
  if (!http_token_file.empty()) config.http.token_file = http_token_file;
  if (!log_level.empty()) config.log_level = log_level;
  if (Status valid = config::validate(config); !valid) return valid.error();
  return config;
}

void CommonOptions::start_logging(const std::string& configured_level) const {
  setup_logging(log_format == "json" ? LogFormat::json : LogFormat::text,
                log_level.empty() ? configured_level : log_level);
}

int run_cli(int argc, char** argv) {
  CLI::App cli{"creni-node: a DICOM AI node. Receives images through INPUT/gateway_<id>/ folders and a DICOM "
               "Storage SCP, processes them, writes OUTPUT/gateway_<id>/ and forwards results once to a PACS."};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", CRENI_VERSION);

  CommonOptions common;
  ProcessOptions process_options;
  RunOptions run_options;

  CLI::App* run = cli.add_subcommand("run", "Run the node: folder door, SCP, processing workers, forwarding");
  add_common_options(*run, common);
  run->add_option("--input", common.input_dir, "Override [node] input_dir");
  run->add_option("--output", common.output_dir, "Override [node] output_dir");
  run->add_option("--state", common.state_dir, "Override [node] state_dir (journal, spool, quarantine)");
  run->add_option("--port", common.port, "Override [scp] port")->check(CLI::Range(1, 65535));
  run->add_option("--http-listen", common.http_listen, "Override [http] listen (ADDRESS:PORT)");
  run->add_option("--http-token-file", common.http_token_file, "Override [http] token_file");

  CLI::App* process = cli.add_subcommand("process", "Process one file (or every file below a folder) without the "
                                                     "service: same processing chain, for scripts and debugging");
  add_common_options(*process, common);
  process->add_option("IN", process_options.input, "Input DICOM file or folder")->required()->check(CLI::ExistingPath);
  process->add_option("OUT", process_options.output,
                      "Output file, or folder (results named <StudyUID>/<SOPUID>.dcm)")->required();

  CLI::App* version = cli.add_subcommand("version", "Print the version and the libraries it was built with");

  StatusOptions status_options;
  CLI::App* status = cli.add_subcommand("status", "Jobs per gateway and state, the oldest waiting job, destinations "
                                                   "and the last errors, from the journal");
  add_common_options(*status, common);
  status->add_option("--state-dir", common.state_dir, "Override [node] state_dir");
  status->add_flag("--json", status_options.json, "One JSON object, for scripts");

  JobSelection selection;
  const auto add_selection = [&](CLI::App& command) {
    add_common_options(command, common);
    command.add_option("--state-dir", common.state_dir, "Override [node] state_dir");
    command.add_option("--job", selection.job_ids, "Job id (repeatable)");
    command.add_option("--state", selection.state, "Every job in this state (for example rejected)");
  };
  CLI::App* reprocess = cli.add_subcommand("reprocess", "Send jobs back to received, to be processed again");
  add_selection(*reprocess);
  CLI::App* discard = cli.add_subcommand("discard", "Mark waiting or rejected jobs as discarded: never processed");
  add_selection(*discard);
  CLI::App* resend = cli.add_subcommand("resend", "Queue failed or unknown forwards of jobs again, on purpose");
  add_selection(*resend);

  PeerOptions peer;
  std::vector<std::filesystem::path> files_to_send;
  const auto add_peer = [&](CLI::App& command) {
    command.add_option("HOST", peer.host, "Peer IPv4 or IPv6 address or host name")->required();
    command.add_option("PORT", peer.port, "Peer port")->required()->check(CLI::Range(1, 65535));
    command.add_option("--aet", peer.calling_ae_title, "Our (calling) AE title")->capture_default_str();
    command.add_option("--aec", peer.called_ae_title, "The peer's (called) AE title")->capture_default_str();
    command.add_option("--timeout", peer.timeout_s, "Connect, association and response timeout in seconds")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
    command.add_option("--tls-ca", peer.tls_trusted_certificates, "Trusted CA certificate (PEM); enables DICOM TLS")
        ->check(CLI::ExistingFile);
    command.add_option("--tls-cert", peer.tls_certificate, "Our certificate (PEM), when the peer asks for one")
        ->check(CLI::ExistingFile);
    command.add_option("--tls-key", peer.tls_private_key, "Our private key (PEM)")->check(CLI::ExistingFile);
  };
  CLI::App* echo = cli.add_subcommand("echo", "C-ECHO a DICOM peer (the forwarder's own SCU code)");
  add_peer(*echo);
  CLI::App* send = cli.add_subcommand("send", "C-STORE files to a DICOM peer, one association and attempt per file");
  add_peer(*send);
  send->add_option("FILES", files_to_send, "DICOM files")->required()->check(CLI::ExistingFile);

  CLI::App* worker = cli.add_subcommand("worker", "Internal: a processing worker process (started by `run`)");
  worker->group("");  // hidden from --help: operators never start it themselves
  add_common_options(*worker, common);
  std::string canonical_file;
  CLI::App* canonical = cli.add_subcommand("canonical-hash", "Internal: the canonical content identity of a file");
  canonical->group("");  // started by `run` as a contained process when an instance arrives again with other bytes
  canonical->add_option("FILE", canonical_file)->required();
  std::vector<std::string> series_infer_paths;
  CLI::App* series_infer = cli.add_subcommand("series-infer", "Internal: the series step \"infer\" on one series");
  series_infer->group("");  // started by `run` as a contained process for each series (and once at start, to check)
  series_infer->add_option("PATHS", series_infer_paths, "SETTINGS [INSTANCES SERIES.json RESULT.json]")->required();

  try {
    cli.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return cli.exit(e);
  } catch (const CLI::ParseError& e) {
    cli.exit(e);
    return kExitUsage;
  }

  if (version->parsed()) return command_version();
  if (process->parsed()) return command_process(common, process_options);
  if (run->parsed()) return command_run(common, run_options);
  if (worker->parsed()) return command_worker(common);
  if (canonical->parsed()) return command_canonical_hash(canonical_file);
  if (series_infer->parsed()) return command_series_infer(series_infer_paths);
  if (status->parsed()) return command_status(common, status_options);
  if (reprocess->parsed()) return command_change_jobs(common, selection, JobChange::reprocess);
  if (discard->parsed()) return command_change_jobs(common, selection, JobChange::discard);
  if (resend->parsed()) return command_change_jobs(common, selection, JobChange::resend);
  if (echo->parsed()) return command_echo(peer);
  if (send->parsed()) return command_send(peer, files_to_send);
  return kExitUsage;
}

}  // namespace creni::app
