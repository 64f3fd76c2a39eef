#include "harness.hpp"

#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace creni::harness {

TempDir::TempDir(const std::string& label) {
  static std::atomic<int> counter{0};
  std::random_device random;
  path_ = std::filesystem::temp_directory_path() /
          (label + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + std::to_string(random()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log_dir,
                           std::vector<std::string> extra_environment) {
  static std::atomic<int> counter{0};
  const std::string stem = std::filesystem::path(argv.at(0)).filename().string() + "-" + std::to_string(counter++);
  stdout_path_ = log_dir / (stem + ".out");
  stderr_path_ = log_dir / (stem + ".err");

  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  for (auto& extra : extra_environment) environment.push_back(std::move(extra));
  std::vector<char*> env;
  for (auto& e : environment) env.push_back(e.data());
  env.push_back(nullptr);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  signal(SIGTERM);
  if (wait(std::chrono::seconds(5)) == -1) {
    signal(SIGKILL);
    wait(std::chrono::seconds(5));
  }
}

bool ChildProcess::running() {
  if (pid_ <= 0) return false;
  return wait(std::chrono::milliseconds(0)) == -1;
}

int ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_code_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void ChildProcess::signal(int signal_number) {
  if (pid_ > 0) ::kill(pid_, signal_number);
}

std::string ChildProcess::stdout_text() const { return read_file(stdout_path_); }
std::string ChildProcess::stderr_text() const { return read_file(stderr_path_); }

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          std::vector<std::string> extra_environment) {
  TempDir logs("creni-cmd");
  CommandResult result;
  {
    ChildProcess child(argv, logs.path(), std::move(extra_environment));
    result.exit_code = child.wait(timeout);
    if (result.exit_code == -1) {
      child.signal(SIGKILL);
      child.wait(std::chrono::seconds(5));
      result.exit_code = -1;
    }
    result.out = child.stdout_text();
    result.err = child.stderr_text();
  }
  return result;
}

namespace {

// True when nothing is bound to 127.0.0.1:`port` (0: the kernel picks one); the port bound is returned in `port`.
bool bind_loopback(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  socklen_t length = sizeof address;
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  ::close(fd);
  if (bound) port = ntohs(address.sin_port);
  return bound;
}

// The first port of the kernel's ephemeral range (net.ipv4.ip_local_port_range), 32768 when unreadable.
int first_ephemeral_port() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return range ? low : 32768;
}

}  // namespace

// A port below the ephemeral range: a port the kernel hands out for "port 0" is also where every outgoing
// connection of the tests running in parallel gets its local port, so a node restarted on the same port could find
// it taken by some client's connection in between (bind_failed). Below the range only listeners compete, and a
// random pick among some 20,000 ports keeps them apart.
int free_port() {
  const int below = first_ephemeral_port();
  constexpr int kLowest = 10000;
  if (below - kLowest >= 1000) {
    std::mt19937 pick(std::random_device{}());
    std::uniform_int_distribution<int> ports(kLowest, below - 1);
    for (int attempt = 0; attempt < 50; ++attempt) {
      int port = ports(pick);
      if (bind_loopback(port)) return port;
    }
  }
  int port = 0;
  if (!bind_loopback(port)) throw std::runtime_error("cannot find a free port");
  return port;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(10);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(50));
  }
}

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::vector<std::filesystem::path> files_below(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::filesystem::path> spooled_files_below(const std::filesystem::path& spool) {
  std::vector<std::filesystem::path> files = files_below(spool);
  files.erase(std::remove_if(files.begin(), files.end(),
                             [](const std::filesystem::path& file) {
                               std::error_code ec;
                               return std::filesystem::file_size(file, ec) == 0 && !ec;
                             }),
              files.end());
  return files;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

RawConnection::RawConnection(std::uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

void RawConnection::send_text(const std::string& bytes) const {
  (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

bool RawConnection::closed_by_peer_within(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd readable{fd_, POLLIN, 0};
    if (::poll(&readable, 1, 50) > 0) {
      char buffer[256];
      const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), MSG_DONTWAIT);
      if (got <= 0) return true;
    }
  }
  return false;
}

}  // namespace creni::harness
