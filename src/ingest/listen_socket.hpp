#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "creni/common/result.hpp"
#include "unique_fd.hpp"

namespace creni::ingest {

/// A non-blocking, close-on-exec TCP socket listening on `address`:`port`. `address` is a numeric IPv4 or IPv6
/// address ("0.0.0.0", "::", "::1") or a host name, resolved once here; "::" also accepts IPv4 peers where the
/// system allows it (dual stack). TCP_NODELAY is set (accepted sockets inherit it on Linux).
/// Errors: "invalid_config" when the address cannot be resolved or is not one of this host's ("scp.bind: ..."):
/// a configuration error; "bind_failed" for everything else (port in use, permission), naming address and port.
[[nodiscard]] Result<UniqueFd> listen_on(const std::string& address, std::uint16_t port, int backlog);

/// The port a bound socket listens on; 0 when it cannot be read.
[[nodiscard]] std::uint16_t bound_port(int listening_socket);

/// A peer's numeric address for logs and allow-lists; IPv4 peers of a dual-stack socket ("::ffff:10.0.0.1") are
/// given as plain IPv4 ("10.0.0.1"), so the same peer has one spelling whatever the node is bound to.
[[nodiscard]] std::string numeric_peer_address(const sockaddr_storage& address);

}  // namespace creni::ingest
