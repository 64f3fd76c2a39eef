#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

/// Test harness shared by the integration suites: temporary folders, child processes stopped by PID, free
/// loopback ports and bounded waiting. Everything here cleans up in its destructor.
namespace creni::harness {

/// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& label = "creni-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

/// A child process started without a shell (argv only), its stdout and stderr captured to files. The destructor
/// sends SIGTERM, waits up to 5 s, then SIGKILLs and reaps: a failing test never leaves a process behind.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log_dir,
               std::vector<std::string> extra_environment = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool running();
  /// Waits up to `timeout` for the exit; returns the exit code, 128+signal when killed, or -1 on timeout.
  int wait(std::chrono::milliseconds timeout);
  /// Sends `signal_number` (SIGTERM, SIGKILL, ...) if still running.
  void signal(int signal_number);
  [[nodiscard]] std::string stdout_text() const;
  [[nodiscard]] std::string stderr_text() const;

 private:
  pid_t pid_ = -1;
  int exit_code_ = -1;
  std::filesystem::path stdout_path_;
  std::filesystem::path stderr_path_;
};

/// Runs a command to completion (bounded by `timeout`, killed after) and returns its exit code and output.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          std::vector<std::string> extra_environment = {});

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, then released), below the ephemeral range so that no
/// outgoing connection takes it between a node's restarts.
[[nodiscard]] int free_port();

/// Polls `condition` every 10-50 ms until it holds or `timeout` passes; returns whether it held.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

/// Full path of a program found on PATH, or "" (tests fail with a clear message when a peer is missing).
[[nodiscard]] std::string find_program(const std::string& name);

/// Every regular file below `root` (recursive), sorted.
[[nodiscard]] std::vector<std::filesystem::path> files_below(const std::filesystem::path& root);
/// files_below() of an SCP spool folder without its empty files: the spool pool keeps empty files whose names are
/// already durable ready for the next C-STOREs, so an empty spool file is a name waiting for data, never data.
[[nodiscard]] std::vector<std::filesystem::path> spooled_files_below(const std::filesystem::path& spool);

/// Reads a whole file.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

/// A raw TCP connection to 127.0.0.1:`port` that sends whatever the test wants (silence, garbage, half PDUs).
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  void send_text(const std::string& bytes) const;
  /// True once the peer has closed its side (EOF or reset), waiting at most `timeout`.
  [[nodiscard]] bool closed_by_peer_within(std::chrono::milliseconds timeout) const;

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace creni::harness
