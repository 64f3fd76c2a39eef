#include "creni/pipeline/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "creni/common/atomic_file.hpp"

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

// The child between fork() and exec: async-signal-safe calls only (no allocation, no locks, no logging).
// An exec that fails writes its errno to `exec_status` (closed on a successful exec: the parent then reads EOF).
[[noreturn]] void start_worker_child(pid_t parent, int job_in, int reply_out, int exec_status, char* const* args) {
  // A worker must not outlive its node: SIGKILL when the thread that forked it ends, which includes the node being
  // killed with SIGKILL. The node may have died before this line ran; then the child already has a new parent.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  // Own process group: a Ctrl-C on the node's terminal reaches the node, which stops its workers in order.
  ::setpgid(0, 0);
  if (::dup2(job_in, STDIN_FILENO) < 0 || ::dup2(reply_out, STDOUT_FILENO) < 0) ::_exit(127);
  // Whatever DCMTK or a library opened without O_CLOEXEC (sockets, the journal) must not reach the worker.
  // Marked close-on-exec rather than closed, so that a failed exec can still report through `exec_status`.
  ::close_range(STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC);
  for (const int signal_number : {SIGTERM, SIGINT, SIGPIPE}) ::signal(signal_number, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execve(args[0], args, environ);
  const int error_number = errno;
  (void)!::write(exec_status, &error_number, sizeof error_number);
  ::_exit(127);
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

  // Everything the child needs is prepared before fork(): after it, the child may not allocate.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  int exec_status[2];
  if (::pipe2(exec_status, O_CLOEXEC) != 0) exec_status[0] = exec_status[1] = -1;

  const pid_t pid = ::fork();
  if (pid == 0) {
    start_worker_child(parent, to_child[0], from_child[1], exec_status[1], args.data());  // never returns
  }
  const int fork_error = errno;
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(exec_status[1]);
  int exec_error = 0;
  if (pid > 0 && exec_status[0] >= 0) {
    ssize_t n = 0;
    do {
      n = ::read(exec_status[0], &exec_error, sizeof exec_error);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof exec_error)) exec_error = 0;
  }
  if (exec_status[0] >= 0) ::close(exec_status[0]);
  if (pid < 0 || exec_error != 0) {
    ::close(to_child[1]);
    ::close(from_child[0]);
    if (pid > 0) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    return make_error("spawn_failed", "cannot start " + argv[0] + ": " +
                                          (pid < 0 ? "fork: " + std::string(std::strerror(fork_error))
                                                   : std::string(std::strerror(exec_error))));
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
  if (!fs::write_all(to_worker_, line.data(), line.size())) return exited();
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
