#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace creni::ingest {

/// What an association has done so far, written by its session, read by the AssociationWatchdog. Lock-free
/// counters; the verdict is set once by the watchdog.
class SessionProgress {
 public:
  using Clock = std::chrono::steady_clock;

  /// A DIMSE message (the A-ASSOCIATE-RQ, a command, a data set) has been received completely.
  void message_completed();
  /// The data set of a C-STORE begins: from now on its transfer rate is watched instead of inactivity.
  void dataset_started();
  /// The data set's bytes received so far (DCMTK's progress callback).
  void dataset_bytes(std::uint64_t total) { dataset_bytes_.store(total); }
  /// Why the watchdog aborted the association; empty while it has not.
  [[nodiscard]] std::string verdict() const;

 private:
  friend class AssociationWatchdog;
  static std::int64_t ticks(Clock::time_point t) { return t.time_since_epoch().count(); }

  std::atomic<std::int64_t> last_message_{ticks(Clock::now())};
  std::atomic<bool> in_dataset_{false};
  std::atomic<std::uint64_t> dataset_bytes_{0};
  std::atomic<std::uint64_t> dataset_serial_{0};
  mutable std::mutex verdict_mutex_;
  std::string verdict_;
};

/// Total deadlines for associations: one thread ("scp-watchdog") looks at every watched association four times a
/// second and aborts (A-ABORT, then shutdown of the socket, which wakes every blocking DCMTK read) one that
///  - has completed no DIMSE message for `inactivity` while not inside a data set, however many bytes trickle in;
///  - receives a data set at less than `min_bytes_per_s` on average over any `grace` window since the data set
///    began (0 = no minimum). Bytes are counted as the kernel receives them (TCP_INFO), so a slow but honest sender
///    is credited before DCMTK has a whole PDU; for other sockets (TLS plaintext) DCMTK's progress is used.
/// The abort is logged with the peer's label, and the session reads the reason from its progress. Thread-safe.
class AssociationWatchdog {
 public:
  struct Limits {
    std::chrono::milliseconds inactivity{60000};
    std::uint64_t min_bytes_per_s = 8 * 1024;
    std::chrono::milliseconds grace{10000};
  };

  explicit AssociationWatchdog(Limits limits);
  ~AssociationWatchdog();
  AssociationWatchdog(const AssociationWatchdog&) = delete;
  AssociationWatchdog& operator=(const AssociationWatchdog&) = delete;

  /// Watches the association on `socket` (which must stay open until forget()) labelled `peer` in the log.
  [[nodiscard]] std::shared_ptr<SessionProgress> watch(int socket, std::string peer);
  /// Stops watching; after it returns the socket is never touched again.
  void forget(const std::shared_ptr<SessionProgress>& progress);

 private:
  struct Watched {
    std::shared_ptr<SessionProgress> progress;
    int socket;
    std::string peer;
    std::uint64_t dataset_serial = 0;
    SessionProgress::Clock::time_point window_started{};
    std::uint64_t window_bytes = 0;
  };
  void run();
  void check(Watched& watched, SessionProgress::Clock::time_point now);
  void abort(Watched& watched, const std::string& why);

  Limits limits_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::list<Watched> watched_;
  std::thread thread_;
};

}  // namespace creni::ingest
