#include <signal.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>
#include <iostream>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"
#include "creni/app/node.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/pipeline/worker_loop.hpp"
#include "creni/process/processing_chain.hpp"

namespace creni::app {

namespace {

// The path of this very binary, so that workers run the same build as the node.
std::string own_executable() {
  char path[PATH_MAX];
  const ssize_t length = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) return "creni-node";
  path[length] = '\0';
  return path;
}

// Workers read the same configuration (file or embedded defaults, same overrides) and log the same way.
std::vector<std::string> worker_command(const CommonOptions& common) {
  std::vector<std::string> argv = {own_executable(), "worker", "--log-format", common.log_format};
  if (!common.config_file.empty()) argv.insert(argv.end(), {"--config", std::filesystem::absolute(common.config_file).string()});
  if (!common.log_level.empty()) argv.insert(argv.end(), {"--log-level", common.log_level});
  return argv;
}

}  // namespace

int command_run(const CommonOptions& common, const RunOptions&) {
  auto config = common.load();
  if (!config) {
    std::cerr << "creni-node run: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  common.start_logging(config->log_level);

  // Signals are taken synchronously by the main thread (sigwait): blocked here, before any thread starts, so every
  // thread inherits the mask. A peer closing a socket must not kill the node: SIGPIPE is ignored.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const dicom::DcmtkRuntime runtime;
  if (Status ready = runtime.check(); !ready) {
    spdlog::critical("cannot start: {}", ready.error().describe());
    return kExitRuntime;
  }

  // The workers build the same chain; building it here first turns a bad model or step into a refusal to start
  // with the reason, instead of workers that keep failing to start.
  if (auto chain = process::ProcessingChain::build(config->processing, config->inference); !chain) {
    spdlog::critical("cannot start: {}", chain.error().describe());
    return kExitUsage;
  }

  Node node(config.value(), worker_command(common));
  if (Status started = node.start(); !started) {
    spdlog::critical("cannot start: {}", started.error().describe());
    node.stop();
    // Folders that overlap or are in use by another node are a configuration problem: nothing was done.
    const std::string& code = started.error().code;
    return code == "invalid_config" || code == "locked" ? kExitUsage : kExitRuntime;
  }

  int received = 0;
  sigwait(&stop_signals, &received);
  if (const auto failure = node.failure()) {
    node.stop();
    spdlog::critical("stopped: {}", failure->describe());
    return kExitRuntime;
  }
  spdlog::info("signal {} received: stopping", received);
  node.stop();
  return kExitOk;
}

int command_worker(const CommonOptions& common) {
  auto config = common.load();
  if (!config) {
    std::cerr << "creni-node worker: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  common.start_logging(config->log_level);
  // The node stops workers by closing their stdin or killing them; a terminal's Ctrl-C is for the node.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  return pipeline::run_worker_loop(config.value(), STDIN_FILENO, STDOUT_FILENO);
}

}  // namespace creni::app
