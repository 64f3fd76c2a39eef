#include "creni/process/contained_command.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <thread>

namespace creni::process {

namespace {

using Clock = std::chrono::steady_clock;

// A descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

Error cannot_start(const std::string& program, const std::string& why) {
  return make_error("external_failed", "cannot start " + program + ": " + why);
}

// Everything after fork() runs in the child: async-signal-safe calls only (no allocation, no locks, no logging).
[[noreturn]] void exec_child(char* const* argv, char* const* envp, const char* work_dir, int null_fd, int stderr_fd,
                             int report_fd, const rlimit* memory, pid_t parent) {
  const auto fail = [report_fd]() {
    const int error = errno;
    (void)!::write(report_fd, &error, sizeof error);
    ::_exit(127);
  };
  ::setpgid(0, 0);
  // Dies with its caller: a worker replaced for a hung job must not leave its module running.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);
  struct sigaction standard {};
  standard.sa_handler = SIG_DFL;
  for (int signal_number = 1; signal_number < NSIG; ++signal_number) ::sigaction(signal_number, &standard, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0 || ::dup2(stderr_fd, 2) < 0) fail();
  if (::chdir(work_dir) != 0) fail();
  if (memory != nullptr && ::setrlimit(RLIMIT_AS, memory) != 0) fail();
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  // Only 0-2 reach the command; the report pipe closes itself on exec (O_CLOEXEC).
  const auto close_from = [](int low, int high) {
    if (low > high) return;
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(low), static_cast<unsigned>(high), 0U) == 0) return;
#endif
    const long max_fd = ::sysconf(_SC_OPEN_MAX);
    const int last = static_cast<int>(std::min<long>(high, max_fd > 0 ? max_fd - 1 : 65535));
    for (int fd = low; fd <= last; ++fd) ::close(fd);
  };
  close_from(3, report_fd - 1);
  close_from(report_fd + 1, INT_MAX);
  ::execve(argv[0], argv, envp);
  fail();
  ::_exit(127);
}

// Waits until `pid` has exited (without reaping it) or `deadline` passes; true when it exited.
bool wait_for_exit(pid_t pid, Clock::time_point deadline) {
#ifdef SYS_pidfd_open
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() >= 0) {
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd ready{pidfd.get(), POLLIN, 0};
      const int polled = ::poll(&ready, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
      if (polled > 0) return true;
      if (polled < 0 && errno != EINTR) break;  // fall back to polling waitid below
    }
  }
#endif
  // Kernels without pidfd (before 5.3) or a seccomp filter that refuses it: poll the child's state.
  for (;;) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string tail_of(int fd, std::size_t bytes) {
  struct stat info {};
  if (::fstat(fd, &info) != 0 || info.st_size <= 0) return {};
  const auto size = static_cast<std::size_t>(info.st_size);
  const std::size_t count = std::min(bytes, size);
  std::string tail(count, '\0');
  const ssize_t got = ::pread(fd, tail.data(), count, static_cast<off_t>(size - count));
  tail.resize(got > 0 ? static_cast<std::size_t>(got) : 0);
  return tail;
}

}  // namespace

std::string printable_tail(const std::string& text, std::size_t max_chars) {
  std::string line;
  for (const char ch : text) {
    if (ch == '\n') {
      line += " | ";
    } else if (ch == '\r' || ch == '\t') {
      line += ' ';
    } else {
      line += (ch >= 0x20 && ch <= 0x7e) ? ch : '?';
    }
  }
  const auto first = line.find_first_not_of(" |");
  const auto last = line.find_last_not_of(" |");
  line = first == std::string::npos ? std::string() : line.substr(first, last - first + 1);
  if (line.size() > max_chars) line = "..." + line.substr(line.size() - max_chars);
  return line;
}

Result<CommandOutcome> run_contained(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                                     const std::filesystem::path& work_dir, const CommandLimits& limits) {
  if (argv.empty() || argv.front().empty() || argv.front().front() != '/') {
    return cannot_start(argv.empty() ? std::string("(nothing)") : argv.front(), "the program must be an absolute path");
  }
  const std::string& program = argv.front();
  // Everything the child needs is prepared before fork(): it may not allocate.
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (const auto& entry : environment) env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);
  const std::string dir = work_dir.string();

  rlimit memory{};
  bool limit_memory = false;
  if (limits.memory_bytes > 0) {
    rlimit current{};
    ::getrlimit(RLIMIT_AS, &current);
    rlim_t wanted = static_cast<rlim_t>(limits.memory_bytes);
    if (current.rlim_max != RLIM_INFINITY) wanted = std::min(wanted, current.rlim_max);
    memory = rlimit{wanted, wanted};
    limit_memory = true;
  }

  Fd null_fd(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (null_fd.get() < 0) return cannot_start(program, std::string("/dev/null: ") + std::strerror(errno));
  // The stderr file is unlinked at once: only the command (through fd 2) and we can reach it.
  std::string stderr_name = (work_dir / ".stderr-XXXXXX").string();
  Fd stderr_fd(::mkostemp(stderr_name.data(), O_CLOEXEC));
  if (stderr_fd.get() < 0) return cannot_start(program, std::string("stderr file: ") + std::strerror(errno));
  ::unlink(stderr_name.c_str());
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return cannot_start(program, std::string("pipe: ") + std::strerror(errno));
  Fd report_read(report[0]);
  Fd report_write(report[1]);

  const pid_t parent = ::getpid();
  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return cannot_start(program, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    exec_child(args.data(), env.data(), dir.c_str(), null_fd.get(), stderr_fd.get(), report_write.get(),
               limit_memory ? &memory : nullptr, parent);
  }
  // Also set from here: whichever runs first, the group exists before we might signal it.
  ::setpgid(pid, pid);
  report_write.reset();

  int exec_error = 0;
  ssize_t got = 0;
  do {
    got = ::read(report_read.get(), &exec_error, sizeof exec_error);
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(sizeof exec_error)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return cannot_start(program, std::strerror(exec_error));
  }

  const bool exited = wait_for_exit(pid, start + limits.timeout);
  // The whole group goes: on timeout the command itself, and after an exit anything it left running. The leader
  // is not reaped yet, so its process group id cannot have been reused.
  ::kill(-pid, SIGKILL);
  if (!exited) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }

  CommandOutcome outcome;
  outcome.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  outcome.stderr_tail = tail_of(stderr_fd.get(), limits.stderr_tail_bytes);
  if (!exited) {
    outcome.end = CommandOutcome::End::timed_out;
  } else if (WIFEXITED(status)) {
    outcome.end = CommandOutcome::End::exited;
    outcome.code = WEXITSTATUS(status);
  } else {
    outcome.end = CommandOutcome::End::signaled;
    outcome.code = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return outcome;
}

}  // namespace creni::process
