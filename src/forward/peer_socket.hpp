#pragma once

// Internal to the forward module: the TCP connection to a destination, made by us rather than by DCMTK, and the
// loopback hand-over point through which DCMTK's association request is given that connection.
//
// Why: DCMTK 3.6.7 cannot connect to an IPv6 peer. Its requestor (dulfsm.cc, requestAssociationTCP) splits the
// called presentation address with sscanf("%[^:]:%d"), so "::1:104" and "[::1]:104" are both an "Illegal service
// parameter", and it resolves names through OFStandard::getAddressByHostname, which asks getaddrinfo for AF_INET
// only (a name with only an IPv6 address is an "unknown host"; glibc even maps a hosts-file "::1" to 127.0.0.1).
// There is no protocol-family switch and no requestor-side external socket in 3.6.7 (dcmExternalSocketHandle is
// read by the acceptor only). What DCMTK does offer is its transport layer: after its own connect it hands the
// socket to DcmTransportLayer::createConnection, before the TLS handshake and the first PDU. So we connect to the
// peer ourselves, let DCMTK connect to a listening socket of ours on 127.0.0.1, and in createConnection put our
// connected socket in place of DCMTK's (dup3 onto the same descriptor number), see SocketHandOver.

#include <chrono>
#include <cstdint>
#include <string>

#include "creni/common/owned_fd.hpp"
#include "creni/common/result.hpp"
#include "creni/forward/peer_address.hpp"

namespace creni::forward::detail {

/// A connected, blocking, close-on-exec TCP socket to `host`:`port` (tuned later by the transport layer). `host` is an IPv4 or IPv6
/// address ("10.0.0.5", "::1", also "[::1]") or a name; a name's addresses (IPv4 and IPv6) are tried in the order
/// the resolver gives them, all within `timeout` in total.
/// Errors: "unresolved" ("cannot resolve host 'x': ...") when the name has no address; "connect_failed" naming the
/// address and the cause (refused, unreachable, "no connection within N s").
[[nodiscard]] Result<fs::OwnedFd> connect_to_peer(const std::string& host, std::uint16_t port,
                                                  std::chrono::milliseconds timeout);

using forward::host_and_port;

/// A listening socket on 127.0.0.1 (a free port) that DCMTK's association request connects to, so that its own
/// connect succeeds at once and the socket it made can be replaced by ours. Closed (with whatever connection is
/// still queued on it) when destroyed.
class HandOverPoint {
 public:
  /// Errors: "hand_over_failed" when no loopback listening socket can be made (no 127.0.0.1, no descriptors).
  [[nodiscard]] static Result<HandOverPoint> open();

  /// "127.0.0.1:<port>", the called presentation address to give DCMTK.
  [[nodiscard]] const std::string& address() const { return address_; }

 private:
  HandOverPoint(fs::OwnedFd listener, std::string address)
      : listener_(std::move(listener)), address_(std::move(address)) {}
  fs::OwnedFd listener_;
  std::string address_;
};

/// Holds the socket we connected until DCMTK's transport layer takes it (in createConnection). One per sender,
/// used by one thread at a time, like the sender.
class SocketHandOver {
 public:
  /// Keeps `connected` for the next take_over(); a socket still waiting is closed.
  void offer(fs::OwnedFd connected) { waiting_ = std::move(connected); }

  /// Puts the offered socket in place of `dcmtk_socket` (the same descriptor number, close-on-exec); DCMTK's own
  /// connection to the hand-over point is reset, leaving no TIME_WAIT behind. False (DCMTK's socket untouched)
  /// when nothing was offered or the descriptor cannot be replaced: the request must then fail rather than talk
  /// to the hand-over point.
  [[nodiscard]] bool take_over(int dcmtk_socket);

  /// Closes an offered socket DCMTK never took (its request failed before connecting).
  void withdraw() { waiting_.reset(); }

 private:
  fs::OwnedFd waiting_;
};

}  // namespace creni::forward::detail
