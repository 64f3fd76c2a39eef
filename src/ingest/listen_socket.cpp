#include "listen_socket.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>

namespace creni::ingest {

namespace {

void set_int_option(int fd, int level, int option, int value) {
  (void)::setsockopt(fd, level, option, &value, sizeof(value));
}

// Errors that say the address itself is wrong for this host, as opposed to the port or the moment.
bool is_address_error(int error) { return error == EADDRNOTAVAIL || error == EAFNOSUPPORT; }

std::string with_port(const std::string& address, std::uint16_t port) {
  const bool ipv6 = address.find(':') != std::string::npos;
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

}  // namespace

Result<UniqueFd> listen_on(const std::string& address, std::uint16_t port, int backlog) {
  const std::string where = with_port(address, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (resolved != 0 || found == nullptr) {
    return make_error("invalid_config", "scp.bind: cannot resolve '" + address + "': " + ::gai_strerror(resolved));
  }
  const std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owned(found, &::freeaddrinfo);

  // The first address that works: a name with IPv4 and IPv6 addresses listens on the first usable one.
  int last_error = 0;
  for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    UniqueFd socket(::socket(candidate->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket.valid()) {
      last_error = errno;
      continue;
    }
    set_int_option(socket.get(), SOL_SOCKET, SO_REUSEADDR, 1);
    set_int_option(socket.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    if (candidate->ai_family == AF_INET6) set_int_option(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, 0);
    if (::bind(socket.get(), candidate->ai_addr, candidate->ai_addrlen) != 0 ||
        ::listen(socket.get(), backlog) != 0) {
      last_error = errno;
      continue;
    }
    return socket;
  }
  if (is_address_error(last_error)) {
    return make_error("invalid_config",
                      "scp.bind: cannot listen on " + where + ": " + std::strerror(last_error) + " (not an address of this host)");
  }
  return make_error("bind_failed", "cannot listen on " + where + ": " + std::strerror(last_error));
}

std::uint16_t bound_port(int listening_socket) {
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  if (::getsockname(listening_socket, reinterpret_cast<sockaddr*>(&bound), &length) != 0) return 0;
  if (bound.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(bound).sin_port);
  if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(bound).sin6_port);
  return 0;
}

std::string numeric_peer_address(const sockaddr_storage& address) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    if (::inet_ntop(AF_INET, &v4.sin_addr, text.data(), text.size()) == nullptr) return "?";
    return text.data();
  }
  if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) {
      if (::inet_ntop(AF_INET, &v6.sin6_addr.s6_addr[12], text.data(), text.size()) == nullptr) return "?";
      return text.data();
    }
    if (::inet_ntop(AF_INET6, &v6.sin6_addr, text.data(), text.size()) == nullptr) return "?";
    return text.data();
  }
  return "?";
}

}  // namespace creni::ingest
