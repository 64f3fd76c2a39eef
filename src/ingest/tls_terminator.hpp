#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "creni/common/result.hpp"
#include "accept_backoff.hpp"
#include "creni/config/node_config.hpp"
#include "log_throttle.hpp"
#include "unique_fd.hpp"

typedef struct ssl_ctx_st SSL_CTX;

namespace creni::ingest {

/// The SCP's DICOM TLS port: accepts TLS connections, completes the handshake (BCP 195 non-downgrading: TLS 1.2 or
/// newer, AEAD ciphers with forward secrecy, the peer's certificate checked against the trusted CAs and required
/// when configured) on its own thread per connection, bounded by the handshake timeout, and hands the plaintext
/// end of a socket pair to `deliver`, which feeds the ordinary connection intake. DCMTK therefore never sees TLS:
/// a slow or hostile TLS client costs one thread and never holds the process-wide hand-off lock, and a failed
/// handshake ends before any DIMSE. Threads: "scp-tls-accept" plus one "scp-tls" per connection. At most
/// max_connections connections are open; handshakes in progress count among them, but when every slot is taken a
/// new connection ends the oldest handshake still in progress instead of being refused, so connections that never
/// finish their handshake cannot hold every slot (each also ends at handshake_timeout). Non-TLS bytes fail the
/// handshake at once. Out of descriptors, accepting pauses (AcceptBackoff) instead of spinning.
/// start()/stop() from one thread; stop() is idempotent and joins everything.
class TlsTerminator {
 public:
  using Deliver = std::function<void(UniqueFd plaintext, std::string peer_address)>;

  struct Options {
    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 0;
    config::TlsConfig tls;
    std::chrono::milliseconds handshake_timeout{10000};
    std::size_t max_connections = 16;
  };

  /// Errors: "tls_setup" (certificate, key or CA unusable; the message names the file and OpenSSL's reason).
  [[nodiscard]] static Result<std::unique_ptr<TlsTerminator>> create(Options options, Deliver deliver,
                                                                     LogThrottle& throttle);
  ~TlsTerminator();
  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

  /// Binds and starts accepting. Errors as listen_on(): "invalid_config" (address), "bind_failed".
  [[nodiscard]] Status start();
  void stop();
  [[nodiscard]] std::uint16_t port() const { return bound_port_; }

 private:
  struct Connection;
  TlsTerminator(Options options, Deliver deliver, SSL_CTX* context, LogThrottle& throttle);
  void accept_loop();
  void accept_one();
  [[nodiscard]] bool make_room();
  void serve(Connection& connection);
  void reap_finished();

  Options options_;
  Deliver deliver_;
  SSL_CTX* context_;
  LogThrottle& throttle_;
  AcceptBackoff backoff_;
  UniqueFd listen_socket_;
  UniqueFd wake_event_;
  std::uint16_t bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::list<std::unique_ptr<Connection>> connections_;
};

}  // namespace creni::ingest
