#pragma once

namespace creni::app {

/// Exit codes of every creni-node command (documented in README.md).
enum ExitCode : int {
  kExitOk = 0,          ///< success
  kExitFailure = 1,     ///< the command ran but its work failed (an image rejected, a peer refused, ...)
  kExitUsage = 2,       ///< bad command line or invalid configuration: nothing was done
  kExitRuntime = 3,     ///< the node could not start or stopped on an internal error (port in use, disk, ...)
};

/// Parses the command line and runs one command; returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace creni::app
