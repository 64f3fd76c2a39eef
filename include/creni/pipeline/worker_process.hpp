#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::pipeline {

/// One worker child process speaking the worker protocol on its stdin/stdout; stderr is shared with the node
/// (log lines). Started with fork and exec (no shell; argv only) and only fds 0, 1 and 2: every other descriptor of
/// the node (listening sockets, the journal) is closed in the child. The child dies with the thread that started
/// it (PR_SET_PDEATHSIG SIGKILL, set before exec and checked against a parent that died first), so a node killed
/// with SIGKILL leaves no worker behind. The destructor kills (SIGKILL) and reaps it.
/// Used by one thread at a time.
class WorkerProcess {
 public:
  /// Starts `argv` (argv[0] is the executable path). Error "spawn_failed".
  [[nodiscard]] static Result<std::unique_ptr<WorkerProcess>> spawn(const std::vector<std::string>& argv);

  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }

  /// Writes one protocol line. Error "worker_exited" when the worker is gone.
  [[nodiscard]] Status send_line(const std::string& line);

  /// Waits up to `timeout` for one complete line. Errors: "timeout" (the worker is still running),
  /// "worker_exited" (with how it ended: exit code or signal, e.g. "killed by signal 11 (SIGSEGV)").
  [[nodiscard]] Result<std::string> read_line(std::chrono::milliseconds timeout);

  /// SIGKILL and reap; returns how it ended. Idempotent.
  std::string kill_and_reap();

 private:
  WorkerProcess(pid_t pid, int to_worker, int from_worker);
  std::string reap(bool block);
  std::string reap_after_eof();
  // The "worker_exited" error for a worker whose pipe closed, naming it and how it ended (reaps it).
  Error exited();

  pid_t pid_;
  int to_worker_;
  int from_worker_;
  std::string buffer_;
  std::string exit_description_;
};

}  // namespace creni::pipeline
