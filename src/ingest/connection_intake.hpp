#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "accept_backoff.hpp"
#include "creni/common/result.hpp"
#include "log_throttle.hpp"
#include "unique_fd.hpp"

namespace creni::ingest {

/// A TCP connection whose complete A-ASSOCIATE-RQ PDU waits in the socket's receive buffer; the socket is blocking
/// again, with TCP_NODELAY, ready for DCMTK.
struct ReadyConnection {
  UniqueFd socket;
  std::string peer_address;  ///< numeric IPv4 or IPv6 address (IPv4 peers of a dual-stack socket as plain IPv4)
  std::string calling_ae;    ///< the calling AE title the A-ASSOCIATE-RQ names, trimmed (not yet validated)
};

struct ConnectionIntakeOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 0;
  std::chrono::milliseconds rq_timeout{30000};  ///< time for a new connection to deliver its A-ASSOCIATE-RQ
  std::size_t max_waiting = 256;                ///< connections waiting for their A-ASSOCIATE-RQ at once
};

/// The accept loop of the Storage SCP, on its own thread ("scp-accept"). Accepts without blocking and watches
/// every new connection with poll() until its whole A-ASSOCIATE-RQ PDU (6-byte header plus length, at most
/// 64 KiB) is buffered: SO_RCVLOWAT makes poll() report a connection only once the header, then the whole PDU,
/// has arrived, so trickling peers cost no CPU. A first byte other than 0x01, an over-long PDU or a peer that
/// closes early ends the connection at once; one still incomplete after rq_timeout is dropped; beyond
/// max_waiting the oldest waiting one is dropped. A complete one goes to `hand_over`; when that declines
/// (no free worker, or this peer holds its share already), the peer gets an A-ASSOCIATE-RJ transient "local limit
/// exceeded" and the socket is drained briefly so the rejection is read rather than reset. Out of descriptors, the
/// listening socket is left alone for a growing pause (AcceptBackoff) while waiting connections are still served.
/// Messages a peer can cause once per connection go through `throttle`.
/// start()/stop() from one thread; `hand_over` runs on the intake thread and takes the connection by moving from
/// it when it returns true.
class ConnectionIntake {
 public:
  /// Takes the connection (moving from it) and returns nothing, or leaves it and returns why it is refused.
  using HandOver = std::function<std::optional<std::string>(ReadyConnection&)>;

  ConnectionIntake(ConnectionIntakeOptions options, HandOver hand_over, LogThrottle& throttle);
  ~ConnectionIntake();
  ConnectionIntake(const ConnectionIntake&) = delete;
  ConnectionIntake& operator=(const ConnectionIntake&) = delete;

  /// Binds, listens and starts the thread. Errors as listen_on(): "invalid_config" (address), "bind_failed".
  [[nodiscard]] Status start();
  /// Stops the thread and closes the listening socket and every connection not yet handed over. Idempotent.
  void stop();
  /// Adds a connection accepted elsewhere (the plaintext end of a TLS connection) to those waiting for their
  /// A-ASSOCIATE-RQ, as if it had been accepted here. Thread-safe; the socket must be non-blocking.
  void adopt(UniqueFd socket, std::string peer_address);
  /// The bound port; 0 before start().
  [[nodiscard]] std::uint16_t port() const { return bound_port_.load(); }

 private:
  using Clock = std::chrono::steady_clock;

  struct Waiting {
    UniqueFd socket;
    std::string peer_address;
    Clock::time_point deadline;
    bool header_seen = false;
  };
  struct Lingering {
    UniqueFd socket;
    Clock::time_point deadline;
  };
  enum class RqState { incomplete, complete, closed, not_associate_rq, too_large };
  struct Adopted {
    UniqueFd socket;
    std::string peer_address;
  };
  std::mutex adopted_mutex_;
  std::vector<Adopted> adopted_;  // handed in by adopt(), taken by the intake thread

  void run();
  void run_once();
  void accept_new_connections();
  void take_adopted();
  void inspect_waiting(std::size_t index, short revents);
  void offer(Waiting& waiting);
  void reject_for_capacity(Waiting& waiting, const std::string& why);
  void drain_lingering(Lingering& lingering);
  void expire(Clock::time_point now);
  [[nodiscard]] int poll_timeout_ms(Clock::time_point now) const;
  static RqState inspect(Waiting& waiting, short revents);

  ConnectionIntakeOptions options_;
  HandOver hand_over_;
  LogThrottle& throttle_;
  AcceptBackoff backoff_;
  UniqueFd listen_socket_;
  UniqueFd wake_event_;
  std::atomic<std::uint16_t> bound_port_{0};
  std::atomic<bool> stopping_{false};
  std::vector<Waiting> waiting_;
  std::vector<Lingering> lingering_;
  std::thread thread_;
};

}  // namespace creni::ingest
