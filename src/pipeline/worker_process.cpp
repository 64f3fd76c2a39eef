#include "creni/pipeline/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace creni::pipeline {

namespace {

constexpr std::size_t kMaxLineBytes = 1 << 20;

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int signal_number = WTERMSIG(status);
    const char* name = sigabbrev_np(signal_number);
    return "killed by signal " + std::to_string(signal_number) + (name != nullptr ? std::string(" (SIG") + name + ")" : "");
  }
  return "ended (status " + std::to_string(status) + ")";
}

}  // namespace

WorkerProcess::WorkerProcess(pid_t pid, int to_worker, int from_worker)
    : pid_(pid), to_worker_(to_worker), from_worker_(from_worker) {}

Result<std::unique_ptr<WorkerProcess>> WorkerProcess::spawn(const std::vector<std::string>& argv) {
  int to_child[2];
  int from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) return make_error("spawn_failed", std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    return make_error("spawn_failed", std::string("pipe: ") + std::strerror(errno));
  }

  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
  // Whatever DCMTK or a library opened without O_CLOEXEC (sockets, the journal) must not reach the worker.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGPIPE);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  // Own process group: a Ctrl-C on the node's terminal reaches the node, which stops its workers in order.
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ::close(to_child[0]);
  ::close(from_child[1]);
  if (rc != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    return make_error("spawn_failed", "cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return std::unique_ptr<WorkerProcess>(new WorkerProcess(pid, to_child[1], from_child[0]));
}

WorkerProcess::~WorkerProcess() {
  kill_and_reap();
  if (to_worker_ >= 0) ::close(to_worker_);
  if (from_worker_ >= 0) ::close(from_worker_);
}

Error WorkerProcess::exited() {
  const std::string who = "worker " + std::to_string(pid_) + " ";  // before reaping forgets the pid
  return make_error("worker_exited", who + reap_after_eof());
}

Status WorkerProcess::send_line(const std::string& line) {
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(to_worker_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return exited();
    written += static_cast<std::size_t>(n);
  }
  return {};
}

Result<std::string> WorkerProcess::read_line(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (const auto newline = buffer_.find('\n'); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline + 1);
      buffer_.erase(0, newline + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error("timeout", "no answer from worker " + std::to_string(pid_));
    pollfd fd{from_worker_, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) continue;
    char chunk[4096];
    const ssize_t n = ::read(from_worker_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return exited();
    buffer_.append(chunk, static_cast<std::size_t>(n));
    if (buffer_.size() > kMaxLineBytes) {
      kill_and_reap();
      return make_error("worker_exited", "worker sent an over-long line; killed");
    }
  }
}

std::string WorkerProcess::reap(bool block) {
  if (pid_ <= 0) return exit_description_;
  int status = 0;
  pid_t done = 0;
  do {
    done = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (done < 0 && errno == EINTR);
  if (done == pid_) {
    exit_description_ = describe_wait_status(status);
    pid_ = -1;
  }
  return exit_description_;
}

std::string WorkerProcess::reap_after_eof() {
  // A worker that closed its pipe is normally dying already; give it a moment so that its own exit status (for
  // example SIGSEGV) is what gets recorded, then make sure it is gone.
  for (int i = 0; i < 100 && pid_ > 0; ++i) {
    if (!reap(false).empty()) return exit_description_;
    ::usleep(10000);
  }
  return kill_and_reap();
}

std::string WorkerProcess::kill_and_reap() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap(true);
  }
  return exit_description_;
}

}  // namespace creni::pipeline
