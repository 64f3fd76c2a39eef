#include "tls_terminator.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "listen_socket.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

using detail::logger;  // the module's logger (ingest_logger.hpp)

// BCP 195 non-downgrading profile (PS3.15 section B.9): TLS 1.2 or newer, AEAD ciphers with forward secrecy.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256";

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown TLS error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

Result<SSL_CTX*> make_context(const config::TlsConfig& tls) {
  SSL_CTX* context = SSL_CTX_new(TLS_server_method());
  if (context == nullptr) return make_error("tls_setup", openssl_error());
  const auto fail = [&](const std::string& what) -> Result<SSL_CTX*> {
    const std::string reason = openssl_error();
    SSL_CTX_free(context);
    return make_error("tls_setup", what + ": " + reason);
  };
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  if (SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) return fail("cipher list");
  if (SSL_CTX_use_certificate_chain_file(context, tls.certificate.c_str()) != 1) {
    return fail("scp.tls.certificate " + tls.certificate.string());
  }
  if (SSL_CTX_use_PrivateKey_file(context, tls.private_key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(context) != 1) {
    return fail("scp.tls.private_key " + tls.private_key.string());
  }
  for (const auto& ca : tls.trusted_certificates) {
    if (SSL_CTX_load_verify_locations(context, ca.c_str(), nullptr) != 1) {
      return fail("scp.tls.trusted_certificates " + ca.string());
    }
  }
  SSL_CTX_set_verify(context, tls.require_peer_certificate ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                                                           : SSL_VERIFY_PEER,
                     nullptr);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_OFF);
  return context;
}

// Waits until `fd` is ready for what OpenSSL asked (`want`), up to `deadline`; false on timeout or stop.
bool wait_for(int fd, int ssl_error, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop) {
  while (!stop.load()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd watched{fd, static_cast<short>(ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(std::min<long long>(left.count(), 200)));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
  return false;
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd watched{fd, POLLOUT, 0};
      (void)::poll(&watched, 1, 1000);
      continue;
    }
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

struct TlsTerminator::Connection {
  UniqueFd socket;
  std::string peer;
  SSL* ssl = nullptr;
  std::thread thread;
  std::chrono::steady_clock::time_point accepted = std::chrono::steady_clock::now();
  std::atomic<bool> handshaking{true};
  std::atomic<bool> finished{false};
  ~Connection() {
    if (thread.joinable()) thread.join();
    if (ssl != nullptr) SSL_free(ssl);
  }
};

Result<std::unique_ptr<TlsTerminator>> TlsTerminator::create(Options options, Deliver deliver,
                                                             LogThrottle& throttle) {
  auto context = make_context(options.tls);
  if (!context) return context.error();
  return std::unique_ptr<TlsTerminator>(
      new TlsTerminator(std::move(options), std::move(deliver), context.value(), throttle));
}

TlsTerminator::TlsTerminator(Options options, Deliver deliver, SSL_CTX* context, LogThrottle& throttle)
    : options_(std::move(options)),
      deliver_(std::move(deliver)),
      context_(context),
      throttle_(throttle),
      backoff_("scp-tls", logger()) {}

TlsTerminator::~TlsTerminator() {
  stop();
  SSL_CTX_free(context_);
}

Status TlsTerminator::start() {
  wake_event_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_event_.valid()) return make_error("bind_failed", std::string("eventfd: ") + std::strerror(errno));
  auto listening = listen_on(options_.bind_address, options_.port, 64);
  if (!listening) return listening.error();
  listen_socket_ = std::move(listening).value();
  bound_port_ = bound_port(listen_socket_.get());
  stopping_.store(false);
  accept_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "scp-tls-accept");
    try {
      accept_loop();
    } catch (const std::exception& e) {
      logger()->critical("TLS accept loop stopped: {}", e.what());
    }
  });
  logger()->info("DICOM TLS listening on {} port {}", options_.bind_address, bound_port_);
  return {};
}

void TlsTerminator::stop() {
  if (stopping_.exchange(true)) return;
  if (wake_event_.valid()) {
    const std::uint64_t one = 1;
    (void)!::write(wake_event_.get(), &one, sizeof one);
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  std::list<std::unique_ptr<Connection>> remaining;
  {
    const std::lock_guard lock(mutex_);
    for (auto& connection : connections_) ::shutdown(connection->socket.get(), SHUT_RDWR);
    remaining.swap(connections_);
  }
  remaining.clear();  // joins each connection thread
}

void TlsTerminator::accept_loop() {
  while (!stopping_.load()) {
    const auto now = std::chrono::steady_clock::now();
    const bool accepting = !backoff_.paused(now);
    // While out of descriptors the listening socket stays out of the set: it would report readable at once.
    std::array<pollfd, 2> fds{{{wake_event_.get(), POLLIN, 0}, {accepting ? listen_socket_.get() : -1, POLLIN, 0}}};
    int wait_ms = 500;
    if (!accepting) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(backoff_.resume_at() - now).count();
      wait_ms = static_cast<int>(std::clamp<long long>(left + 1, 1, 500));
    }
    if (::poll(fds.data(), fds.size(), wait_ms) < 0 && errno != EINTR) return;
    reap_finished();
    throttle_.flush();
    if (stopping_.load() || !accepting || (fds[1].revents & POLLIN) == 0) continue;
    accept_one();
  }
}

void TlsTerminator::accept_one() {
  sockaddr_storage peer{};
  socklen_t length = sizeof peer;
  UniqueFd socket(
      ::accept4(listen_socket_.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (!socket.valid()) {
    const int error = errno;
    if (AcceptBackoff::is_exhaustion(error)) backoff_.failed(error);
    return;
  }
  backoff_.succeeded();
  const std::string peer_address = numeric_peer_address(peer);
  const std::lock_guard lock(mutex_);
  if (!make_room()) {
    if (throttle_.admit("TLS connection refused")) {
      logger()->warn("TLS connection from {} closed: {} TLS connections already open", peer_address,
                     connections_.size());
    }
    return;
  }
  const int yes = 1;
  ::setsockopt(socket.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  auto connection = std::make_unique<Connection>();
  connection->socket = std::move(socket);
  connection->peer = peer_address;
  Connection& served = *connection;
  connections_.push_back(std::move(connection));
  served.thread = std::thread([this, &served] {
    pthread_setname_np(pthread_self(), "scp-tls");
    try {
      serve(served);
    } catch (const std::exception& e) {
      logger()->error("TLS connection from {} failed: {}", served.peer, e.what());
    }
    served.finished.store(true);
  });
}

bool TlsTerminator::make_room() {
  // Called with mutex_ held. Finished connections still in the list are reaped soon; they hold no slot.
  std::size_t open = 0;
  Connection* oldest_handshake = nullptr;
  for (const auto& connection : connections_) {
    if (connection->finished.load()) continue;
    ++open;
    if (connection->handshaking.load() && (oldest_handshake == nullptr || connection->accepted < oldest_handshake->accepted)) {
      oldest_handshake = connection.get();
    }
  }
  if (open < options_.max_connections) return true;
  if (oldest_handshake == nullptr) return false;
  // Every slot taken: the handshake that has waited longest gives way (its thread sees the socket shut down).
  if (throttle_.admit("TLS handshake preempted")) {
    logger()->info("TLS handshake with {} ended: all TLS slots taken and a new connection is waiting",
                   oldest_handshake->peer);
  }
  oldest_handshake->handshaking.store(false);
  (void)::shutdown(oldest_handshake->socket.get(), SHUT_RDWR);
  return true;
}

void TlsTerminator::reap_finished() {
  std::list<std::unique_ptr<Connection>> done;
  {
    const std::lock_guard lock(mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      if ((*it)->finished.load()) {
        done.push_back(std::move(*it));
        it = connections_.erase(it);
      } else {
        ++it;
      }
    }
  }
}  // `done` joins the finished threads here, outside the lock

void TlsTerminator::serve(Connection& connection) {
  const int fd = connection.socket.get();
  connection.ssl = SSL_new(context_);
  if (connection.ssl == nullptr || SSL_set_fd(connection.ssl, fd) != 1) {
    logger()->error("TLS connection from {}: {}", connection.peer, openssl_error());
    return;
  }
  // The handshake has its own deadline: a client that stalls in it is closed before DICOM begins.
  const auto deadline = std::chrono::steady_clock::now() + options_.handshake_timeout;
  while (true) {
    const int accepted = SSL_accept(connection.ssl);
    if (accepted == 1) break;
    const int error = SSL_get_error(connection.ssl, accepted);
    if ((error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) && wait_for(fd, error, deadline, stopping_)) {
      continue;
    }
    const std::string why =
        error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? "timed out" : openssl_error();
    if (throttle_.admit("TLS handshake failed")) {
      logger()->warn("TLS handshake with {} failed: {}", connection.peer, why);
    }
    return;
  }
  connection.handshaking.store(false);
  logger()->debug("TLS handshake with {} done ({}, {})", connection.peer, SSL_get_version(connection.ssl),
                  SSL_get_cipher_name(connection.ssl));

  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    logger()->error("TLS connection from {}: socketpair: {}", connection.peer, std::strerror(errno));
    return;
  }
  UniqueFd inner(pair[1]);
  UniqueFd plaintext(pair[0]);
  const int flags = ::fcntl(plaintext.get(), F_GETFL);
  ::fcntl(plaintext.get(), F_SETFL, flags | O_NONBLOCK);
  deliver_(std::move(plaintext), connection.peer);

  // Pump: decrypted bytes to the intake side, the intake side's bytes encrypted to the peer, until either closes.
  std::array<char, 16384> buffer{};
  while (!stopping_.load()) {
    if (SSL_pending(connection.ssl) == 0) {
      std::array<pollfd, 2> fds{{{fd, POLLIN, 0}, {inner.get(), POLLIN, 0}}};
      if (::poll(fds.data(), fds.size(), 500) < 0 && errno != EINTR) return;
      if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = ::recv(inner.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
        if (n > 0) {
          int written = 0;
          while (written < n) {
            const int sent = SSL_write(connection.ssl, buffer.data() + written, static_cast<int>(n - written));
            if (sent > 0) {
              written += sent;
              continue;
            }
            const int error = SSL_get_error(connection.ssl, sent);
            if ((error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) &&
                wait_for(fd, error, std::chrono::steady_clock::now() + options_.handshake_timeout, stopping_)) {
              continue;
            }
            return;
          }
        }
      }
      if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    }
    const int n = SSL_read(connection.ssl, buffer.data(), static_cast<int>(buffer.size()));
    if (n > 0) {
      if (!write_all(inner.get(), buffer.data(), static_cast<std::size_t>(n))) break;
      continue;
    }
    const int error = SSL_get_error(connection.ssl, n);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) continue;
    break;  // closed or failed
  }
  SSL_shutdown(connection.ssl);
}

}  // namespace creni::ingest
