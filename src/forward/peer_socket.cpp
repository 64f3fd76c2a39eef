#include "peer_socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace creni::forward::detail {

namespace {

using Clock = std::chrono::steady_clock;

// "[::1]" is how an IPv6 address is often written beside a port; getaddrinfo wants it bare.
std::string without_brackets(const std::string& host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string numeric_address(const sockaddr* address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  const void* raw = address->sa_family == AF_INET6
                        ? static_cast<const void*>(&reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr)
                        : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(address)->sin_addr);
  if (::inet_ntop(address->sa_family, raw, text.data(), text.size()) == nullptr) return "?";
  return text.data();
}

bool set_blocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  return flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

// One address within the time left. Returns 0 on success, else the errno (ETIMEDOUT when time ran out).
int connect_one(int fd, const addrinfo& address, Clock::time_point deadline) {
  int rc = 0;
  do {
    rc = ::connect(fd, address.ai_addr, address.ai_addrlen);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  while (true) {
    // Rounded up: a poll that waits the truncated milliseconds wakes just before the deadline, and the caller,
    // seeing time not yet run out, would report the kernel's "Connection timed out" instead of our limit.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return ETIMEDOUT;
    pollfd waiting{fd, POLLOUT, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errno;
    if (ready == 0) return ETIMEDOUT;
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
    return error;
  }
}

}  // namespace

Result<fs::OwnedFd> connect_to_peer(const std::string& host, std::uint16_t port, std::chrono::milliseconds timeout) {
  const std::string name = without_brackets(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;  // no AI_ADDRCONFIG: it would hide ::1 on a host whose only IPv6 address is ::1
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0 || found == nullptr) {
    const std::string why = resolved == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(resolved);
    return make_error("unresolved", "cannot resolve host '" + host + "': " + why);
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);

  const Clock::time_point deadline = Clock::now() + timeout;
  std::string failures;
  for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    const std::string where = host_and_port(numeric_address(candidate->ai_addr), port);
    fs::OwnedFd socket(::socket(candidate->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    int error = socket.valid() ? connect_one(socket.get(), *candidate, deadline) : errno;
    if (error == 0 && !set_blocking(socket.get())) error = errno;
    if (error == 0) return socket;
    if (!failures.empty()) failures += "; ";
    failures += error == ETIMEDOUT && Clock::now() >= deadline
                    ? where + ": no connection within " + std::to_string(timeout.count() / 1000) + " s"
                    : where + ": " + std::strerror(error);
    if (Clock::now() >= deadline) break;
  }
  return make_error("connect_failed", failures);
}

Result<HandOverPoint> HandOverPoint::open() {
  fs::OwnedFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in loopback{};
  loopback.sin_family = AF_INET;
  loopback.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  loopback.sin_port = 0;
  socklen_t length = sizeof loopback;
  if (!listener.valid() || ::bind(listener.get(), reinterpret_cast<const sockaddr*>(&loopback), sizeof loopback) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&loopback), &length) != 0) {
    return make_error("hand_over_failed",
                      std::string("cannot listen on 127.0.0.1 for DCMTK's connection: ") + std::strerror(errno));
  }
  return HandOverPoint(std::move(listener), "127.0.0.1:" + std::to_string(ntohs(loopback.sin_port)));
}

bool SocketHandOver::take_over(int dcmtk_socket) {
  if (!waiting_.valid()) return false;
  // Closing DCMTK's connection to the hand-over point with a reset leaves no TIME_WAIT entry per association.
  const linger reset{1, 0};
  (void)::setsockopt(dcmtk_socket, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  int replaced = 0;
  do {
    replaced = ::dup3(waiting_.get(), dcmtk_socket, O_CLOEXEC);
  } while (replaced < 0 && errno == EINTR);
  if (replaced < 0) return false;
  waiting_.reset();  // the connection lives on under DCMTK's descriptor number
  return true;
}

}  // namespace creni::forward::detail

namespace creni::forward {

std::string host_and_port(const std::string& host, std::uint16_t port) {
  const std::string bare = detail::without_brackets(host);
  const bool ipv6 = bare.find(':') != std::string::npos;
  return (ipv6 ? "[" + bare + "]" : bare) + ":" + std::to_string(port);
}

}  // namespace creni::forward
