#include "connection_intake.hpp"

#include "listen_socket.hpp"
#include "ingest_logger.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace creni::ingest {

namespace {

constexpr std::uint8_t kAssociateRqType = 0x01;
constexpr std::size_t kPduHeaderBytes = 6;
// An A-ASSOCIATE-RQ proposing a few hundred presentation contexts stays well below this (DCMTK's own limit for
// the PDU is 1 MiB); anything longer is not a sender we want to buffer for.
constexpr std::uint32_t kMaxRqBodyBytes = 64 * 1024;
constexpr auto kLingerAfterReject = std::chrono::seconds(2);
constexpr auto kLoopFailurePause = std::chrono::milliseconds(100);
constexpr int kMaxAcceptsPerRound = 64;
constexpr int kMaxPollWaitMs = 1000;

using detail::logger;  // the module's logger (ingest_logger.hpp)

void set_int_option(int fd, int level, int option, int value) {
  (void)::setsockopt(fd, level, option, &value, sizeof(value));
}

void set_blocking(int fd, bool blocking) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) return;
  (void)::fcntl(fd, F_SETFL, blocking ? (flags & ~O_NONBLOCK) : (flags | O_NONBLOCK));
}

std::uint32_t big_endian_32(const std::uint8_t* p) {
  return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
         (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

// PS3.8 section 9.3.4: A-ASSOCIATE-RJ, result 2 (rejected-transient), source 3 (service-provider, presentation
// related), reason 2 (local-limit-exceeded).
constexpr std::array<std::uint8_t, 10> kRejectLocalLimitExceeded = {0x03, 0x00, 0x00, 0x00, 0x00,
                                                                    0x04, 0x00, 0x02, 0x03, 0x02};

// PS3.8 section 9.3.2: the calling AE title is the 16 bytes at offset 26 of the A-ASSOCIATE-RQ PDU. Read without
// consuming, so DCMTK still gets the whole PDU.
std::string peek_calling_ae(int fd) {
  constexpr std::size_t kCallingAeOffset = 26;
  constexpr std::size_t kAeLength = 16;
  std::array<char, kCallingAeOffset + kAeLength> head{};
  const ssize_t peeked = ::recv(fd, head.data(), head.size(), MSG_PEEK | MSG_DONTWAIT);
  if (peeked < static_cast<ssize_t>(head.size())) return "";
  std::string ae(head.data() + kCallingAeOffset, kAeLength);
  const auto first = ae.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return ae.substr(first, ae.find_last_not_of(' ') - first + 1);
}

}  // namespace

ConnectionIntake::ConnectionIntake(ConnectionIntakeOptions options, HandOver hand_over, LogThrottle& throttle)
    : options_(std::move(options)),
      hand_over_(std::move(hand_over)),
      throttle_(throttle),
      backoff_("scp", logger()) {}

ConnectionIntake::~ConnectionIntake() { stop(); }

Status ConnectionIntake::start() {
  if (thread_.joinable()) return {};
  auto listening = listen_on(options_.bind_address, options_.port, SOMAXCONN);
  if (!listening) return listening.error();
  const std::uint16_t port = bound_port(listening->get());
  if (port == 0) return make_error("bind_failed", "cannot read the bound port: " + std::string(std::strerror(errno)));
  wake_event_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!wake_event_.valid()) return make_error("bind_failed", "eventfd: " + std::string(std::strerror(errno)));
  listen_socket_ = std::move(listening.value());
  bound_port_ = port;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
  return {};
}

void ConnectionIntake::stop() {
  if (!thread_.joinable()) return;
  stopping_ = true;
  const std::uint64_t one = 1;
  (void)!::write(wake_event_.get(), &one, sizeof(one));
  thread_.join();
  waiting_.clear();
  lingering_.clear();
  listen_socket_.reset();
  wake_event_.reset();
  bound_port_ = 0;
}

void ConnectionIntake::run() {
  pthread_setname_np(pthread_self(), "scp-accept");
  while (!stopping_) {
    // Firewall: an unexpected failure costs one round, never the listener.
    try {
      run_once();
    } catch (const std::exception& e) {
      if (throttle_.admit("scp accept loop failure")) logger()->error("scp accept loop: {}", e.what());
      std::this_thread::sleep_for(kLoopFailurePause);
    } catch (...) {
      if (throttle_.admit("scp accept loop failure")) logger()->error("scp accept loop: unknown failure");
      std::this_thread::sleep_for(kLoopFailurePause);
    }
  }
}

void ConnectionIntake::run_once() {
  std::vector<pollfd> fds;
  fds.reserve(2 + waiting_.size() + lingering_.size());
  fds.push_back({wake_event_.get(), POLLIN, 0});
  // While out of descriptors the listening socket stays out of the set: it would report readable at once.
  const bool accepting = !backoff_.paused(Clock::now());
  fds.push_back({accepting ? listen_socket_.get() : -1, POLLIN, 0});
  for (const auto& w : waiting_) fds.push_back({w.socket.get(), POLLIN | POLLRDHUP, 0});
  for (const auto& l : lingering_) fds.push_back({l.socket.get(), POLLIN | POLLRDHUP, 0});
  const std::size_t waiting_count = waiting_.size();
  const std::size_t lingering_count = lingering_.size();

  if (::poll(fds.data(), fds.size(), poll_timeout_ms(Clock::now())) < 0) {
    if (errno == EINTR) return;
    throw std::system_error(errno, std::generic_category(), "poll");
  }
  if (fds[0].revents != 0) {
    std::uint64_t count = 0;
    (void)!::read(wake_event_.get(), &count, sizeof(count));
  }
  if (stopping_) return;
  for (std::size_t i = 0; i < waiting_count; ++i) {
    if (fds[2 + i].revents != 0) inspect_waiting(i, fds[2 + i].revents);
  }
  for (std::size_t i = 0; i < lingering_count; ++i) {
    if (fds[2 + waiting_count + i].revents != 0) drain_lingering(lingering_[i]);
  }
  if (accepting && (fds[1].revents & POLLIN) != 0) accept_new_connections();
  take_adopted();
  expire(Clock::now());
  throttle_.flush();
}

int ConnectionIntake::poll_timeout_ms(Clock::time_point now) const {
  auto next = now + std::chrono::milliseconds(kMaxPollWaitMs);
  for (const auto& w : waiting_) next = std::min(next, w.deadline);
  for (const auto& l : lingering_) next = std::min(next, l.deadline);
  if (backoff_.paused(now)) next = std::min(next, backoff_.resume_at());
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::clamp<long long>(wait + 1, 0, kMaxPollWaitMs));
}

void ConnectionIntake::adopt(UniqueFd socket, std::string peer_address) {
  {
    const std::lock_guard lock(adopted_mutex_);
    adopted_.push_back({std::move(socket), std::move(peer_address)});
  }
  const std::uint64_t one = 1;
  if (wake_event_.valid()) (void)!::write(wake_event_.get(), &one, sizeof(one));
}

void ConnectionIntake::take_adopted() {
  std::vector<Adopted> taken;
  {
    const std::lock_guard lock(adopted_mutex_);
    taken.swap(adopted_);
  }
  for (auto& connection : taken) {
    if (waiting_.size() >= options_.max_waiting) waiting_.erase(waiting_.begin());
    waiting_.push_back({std::move(connection.socket), connection.peer_address, Clock::now() + options_.rq_timeout, false});
  }
}

void ConnectionIntake::accept_new_connections() {
  for (int accepted = 0; accepted < kMaxAcceptsPerRound; ++accepted) {
    sockaddr_storage peer{};
    socklen_t length = sizeof(peer);
    UniqueFd socket(
        ::accept4(listen_socket_.get(), reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!socket.valid()) {
      const int error = errno;
      if (AcceptBackoff::is_exhaustion(error)) backoff_.failed(error);
      return;  // EAGAIN: nothing more; ECONNABORTED, EINTR and the like: the next round tries again
    }
    backoff_.succeeded();
    set_int_option(socket.get(), IPPROTO_TCP, TCP_NODELAY, 1);
    if (waiting_.size() >= options_.max_waiting) {
      if (throttle_.admit("scp waiting connections dropped")) {
        logger()->warn("scp: {} connections still owe their A-ASSOCIATE-RQ; dropping the oldest, from {}",
                       waiting_.size(), waiting_.front().peer_address);
      }
      waiting_.erase(waiting_.begin());
    }
    waiting_.push_back({std::move(socket), numeric_peer_address(peer), Clock::now() + options_.rq_timeout, false});
  }
}

ConnectionIntake::RqState ConnectionIntake::inspect(Waiting& waiting, short revents) {
  const int fd = waiting.socket.get();
  const bool peer_done = (revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
  std::array<std::uint8_t, kPduHeaderBytes> header{};
  const ssize_t peeked = ::recv(fd, header.data(), header.size(), MSG_PEEK | MSG_DONTWAIT);
  if (peeked == 0) return RqState::closed;
  if (peeked < 0) {
    const bool would_block = errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    return would_block && !peer_done ? RqState::incomplete : RqState::closed;
  }
  if (header[0] != kAssociateRqType) return RqState::not_associate_rq;
  if (static_cast<std::size_t>(peeked) < kPduHeaderBytes) {
    // Wake up again only once the whole header is there.
    set_int_option(fd, SOL_SOCKET, SO_RCVLOWAT, static_cast<int>(kPduHeaderBytes));
    return peer_done ? RqState::closed : RqState::incomplete;
  }
  const std::uint32_t body = big_endian_32(header.data() + 2);
  if (body > kMaxRqBodyBytes) return RqState::too_large;
  const std::size_t whole = kPduHeaderBytes + body;
  if (!waiting.header_seen) {
    // From now on poll() reports this socket only when the whole PDU is buffered (or the peer goes away).
    set_int_option(fd, SOL_SOCKET, SO_RCVLOWAT, static_cast<int>(whole));
    waiting.header_seen = true;
  }
  int available = 0;
  if (::ioctl(fd, FIONREAD, &available) != 0) return RqState::closed;
  if (static_cast<std::size_t>(available) >= whole) return RqState::complete;
  return peer_done ? RqState::closed : RqState::incomplete;
}

void ConnectionIntake::inspect_waiting(std::size_t index, short revents) {
  Waiting& waiting = waiting_[index];
  switch (inspect(waiting, revents)) {
    case RqState::incomplete:
      return;
    case RqState::complete:
      offer(waiting);
      return;
    case RqState::closed:
      logger()->debug("scp: connection from {} closed before its A-ASSOCIATE-RQ", waiting.peer_address);
      break;
    case RqState::not_associate_rq:
      if (throttle_.admit("scp not an A-ASSOCIATE-RQ")) {
        logger()->info("scp: connection from {} sent something other than an A-ASSOCIATE-RQ: closed",
                       waiting.peer_address);
      }
      break;
    case RqState::too_large:
      if (throttle_.admit("scp A-ASSOCIATE-RQ too large")) {
        logger()->info("scp: connection from {} announced an A-ASSOCIATE-RQ over {} bytes: closed",
                       waiting.peer_address, kMaxRqBodyBytes);
      }
      break;
  }
  waiting.socket.reset();
}

void ConnectionIntake::offer(Waiting& waiting) {
  // DCMTK reads with its own timeouts from a blocking socket and expects every byte to wake it.
  set_int_option(waiting.socket.get(), SOL_SOCKET, SO_RCVLOWAT, 1);
  set_blocking(waiting.socket.get(), true);
  std::string calling_ae = peek_calling_ae(waiting.socket.get());
  ReadyConnection ready{std::move(waiting.socket), waiting.peer_address, std::move(calling_ae)};
  const auto refused = hand_over_(ready);
  if (!refused) return;
  waiting.socket = std::move(ready.socket);
  reject_for_capacity(waiting, *refused);
}

void ConnectionIntake::reject_for_capacity(Waiting& waiting, const std::string& why) {
  const int fd = waiting.socket.get();
  set_blocking(fd, false);
  if (throttle_.admit("scp association rejected (transient)")) {
    logger()->warn("scp: association from {} rejected (transient): {}", waiting.peer_address, why);
  }
  (void)::send(fd, kRejectLocalLimitExceeded.data(), kRejectLocalLimitExceeded.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)::shutdown(fd, SHUT_WR);
  // Reading what the peer still sends (its A-ASSOCIATE-RQ) until it closes avoids a reset that could destroy the
  // rejection before the peer has read it.
  lingering_.push_back({std::move(waiting.socket), Clock::now() + kLingerAfterReject});
}

void ConnectionIntake::drain_lingering(Lingering& lingering) {
  std::array<std::uint8_t, 4096> sink{};
  for (int round = 0; round < 16; ++round) {
    const ssize_t got = ::recv(lingering.socket.get(), sink.data(), sink.size(), MSG_DONTWAIT);
    if (got > 0) continue;
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    lingering.socket.reset();  // closed by the peer, or failed
    return;
  }
}

void ConnectionIntake::expire(Clock::time_point now) {
  for (auto& w : waiting_) {
    if (w.socket.valid() && w.deadline <= now) {
      if (throttle_.admit("scp no A-ASSOCIATE-RQ in time")) logger()->info("scp: connection from {} sent no complete A-ASSOCIATE-RQ within {} ms: closed", w.peer_address,
                     options_.rq_timeout.count());
      w.socket.reset();
    }
  }
  for (auto& l : lingering_) {
    if (l.deadline <= now) l.socket.reset();
  }
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), [](const Waiting& w) { return !w.socket.valid(); }),
                 waiting_.end());
  lingering_.erase(
      std::remove_if(lingering_.begin(), lingering_.end(), [](const Lingering& l) { return !l.socket.valid(); }),
      lingering_.end());
}

}  // namespace creni::ingest
