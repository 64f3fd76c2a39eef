#include "association_watchdog.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <optional>

#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

constexpr auto kTick = std::chrono::milliseconds(250);
// PS3.8 section 9.3.8: A-ABORT, source 0 (service-user), reason 0.
constexpr std::array<std::uint8_t, 10> kAbortPdu = {0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};

using detail::logger;  // the module's logger (ingest_logger.hpp)

// Bytes the kernel has received on a TCP socket so far (every byte, before DCMTK assembles a PDU, so a slow but
// honest sender is credited as its bytes arrive); nothing for other sockets (the plaintext end of a TLS connection).
std::optional<std::uint64_t> tcp_bytes_received(int socket) {
  tcp_info info{};
  socklen_t length = sizeof(info);
  if (::getsockopt(socket, IPPROTO_TCP, TCP_INFO, &info, &length) != 0 ||
      length < offsetof(tcp_info, tcpi_bytes_received) + sizeof(info.tcpi_bytes_received)) {
    return std::nullopt;
  }
  return info.tcpi_bytes_received;
}

// Bytes received but not yet read by us: while there are any, a slow transfer is our doing (a slow disk), not the
// peer's.
bool unread_bytes_waiting(int socket) {
  int waiting = 0;
  return ::ioctl(socket, FIONREAD, &waiting) == 0 && waiting > 0;
}

}  // namespace

void SessionProgress::message_completed() {
  last_message_.store(ticks(Clock::now()));
  in_dataset_.store(false);
}

void SessionProgress::dataset_started() {
  dataset_bytes_.store(0);
  ++dataset_serial_;
  in_dataset_.store(true);
}

std::string SessionProgress::verdict() const {
  const std::lock_guard lock(verdict_mutex_);
  return verdict_;
}

AssociationWatchdog::AssociationWatchdog(Limits limits) : limits_(limits), thread_([this] { run(); }) {}

AssociationWatchdog::~AssociationWatchdog() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

std::shared_ptr<SessionProgress> AssociationWatchdog::watch(int socket, std::string peer) {
  auto progress = std::make_shared<SessionProgress>();
  const std::lock_guard lock(mutex_);
  watched_.push_back({progress, socket, std::move(peer)});
  return progress;
}

void AssociationWatchdog::forget(const std::shared_ptr<SessionProgress>& progress) {
  const std::lock_guard lock(mutex_);
  watched_.remove_if([&](const Watched& w) { return w.progress == progress; });
}

void AssociationWatchdog::run() {
  pthread_setname_np(pthread_self(), "scp-watchdog");
  std::unique_lock lock(mutex_);
  while (!stop_.wait_for(lock, kTick, [this] { return stopping_; })) {
    // Firewall: a failure here must never end the thread that bounds every association.
    try {
      const auto now = SessionProgress::Clock::now();
      for (auto& watched : watched_) check(watched, now);
    } catch (...) {
    }
  }
}

void AssociationWatchdog::check(Watched& watched, SessionProgress::Clock::time_point now) {
  SessionProgress& progress = *watched.progress;
  if (!progress.verdict().empty()) return;
  if (progress.in_dataset_.load()) {
    const std::uint64_t serial = progress.dataset_serial_.load();
    const std::uint64_t bytes = tcp_bytes_received(watched.socket).value_or(progress.dataset_bytes_.load());
    if (serial != watched.dataset_serial) {  // a new data set: its first window starts now
      watched.dataset_serial = serial;
      watched.window_started = now;
      watched.window_bytes = bytes;
      return;
    }
    if (unread_bytes_waiting(watched.socket)) {  // we are the slow side: the window starts again
      watched.window_started = now;
      watched.window_bytes = bytes;
      return;
    }
    if (limits_.min_bytes_per_s == 0 || now - watched.window_started < limits_.grace) return;
    const auto window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - watched.window_started).count();
    const std::uint64_t needed = limits_.min_bytes_per_s * static_cast<std::uint64_t>(window_ms) / 1000;
    const std::uint64_t got = bytes - std::min(bytes, watched.window_bytes);
    if (got < needed) {
      abort(watched, fmt::format("data set arriving at {} B/s, below min_transfer_rate_kib_s ({} KiB/s) over {} ms",
                                 got * 1000 / static_cast<std::uint64_t>(std::max<long long>(window_ms, 1)),
                                 limits_.min_bytes_per_s / 1024, window_ms));
      return;
    }
    watched.window_started = now;
    watched.window_bytes = bytes;
    return;
  }
  const SessionProgress::Clock::time_point last{SessionProgress::Clock::duration(progress.last_message_.load())};
  if (now - last >= limits_.inactivity) {
    abort(watched, fmt::format("no complete DIMSE message for {} s (inactivity_timeout_s)",
                               std::chrono::duration_cast<std::chrono::seconds>(now - last).count()));
  }
}

void AssociationWatchdog::abort(Watched& watched, const std::string& why) {
  {
    const std::lock_guard lock(watched.progress->verdict_mutex_);
    watched.progress->verdict_ = why;
  }
  logger()->warn("aborting association from {}: {}", watched.peer, why);
  // The session is blocked in a read (or a bounded write): a shutdown wakes it, and the A-ABORT tells the peer.
  (void)::send(watched.socket, kAbortPdu.data(), kAbortPdu.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)::shutdown(watched.socket, SHUT_RDWR);
}

}  // namespace creni::ingest
