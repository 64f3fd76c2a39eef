#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/journal/journal.hpp"
#include "creni/sqlite/connection.hpp"

namespace creni::journal {

/// Which jobs a listing returns: one page of ids in ascending order.
struct JobFilter {
  std::string gateway_id;            ///< "" = every gateway
  std::optional<JobState> state;     ///< nullopt = every state
  std::int64_t after_id = 0;         ///< only ids greater than this (the previous page's last id)
  int limit = 100;                   ///< at most this many
};

/// Rejected jobs of one gateway with one reason.
struct RejectionCount {
  std::string gateway_id;
  std::string reason;
  std::int64_t count = 0;
};

/// When the oldest `received` job of a gateway arrived.
struct OldestWaiting {
  std::string gateway_id;
  std::int64_t created_at_ms = 0;
};

/// Arrivals of one gateway in one minute (minute_ms: the minute's start, unix epoch ms).
struct MinuteCount {
  std::string gateway_id;
  std::int64_t minute_ms = 0;
  std::int64_t count = 0;
};

/// Arrival-to-end latency of a gateway's finished jobs (written without destinations, or done after forwarding).
struct LatencySummary {
  std::string gateway_id;
  std::int64_t jobs = 0;
  std::int64_t p50_ms = 0;
  std::int64_t p95_ms = 0;
};

/// The most recent forward attempt that ended for one destination.
struct LastForward {
  std::string destination;
  ForwardState state = ForwardState::done;
  std::string phase;
  std::string detail;
  std::int64_t updated_at_ms = 0;
};

/// Read-only queries for observers (metrics, the HTTP API, the dashboard) over their own read-only connection
/// to journal.db, so that they never take the writing Journal's lock: in WAL mode a reader never blocks the
/// node's writers, and the writers never block it. Thread-safe (its connection is guarded by a mutex).
/// Errors common to all methods: "sqlite_error", "busy".
class JournalReader {
 public:
  /// Opens `database_file` read-only; it must exist (the node creates it). Errors: "sqlite_error".
  [[nodiscard]] static Result<std::unique_ptr<JournalReader>> open(const std::filesystem::path& database_file);

  /// Job ids matching `filter`, ascending.
  [[nodiscard]] Result<std::vector<std::int64_t>> job_ids(const JobFilter& filter);
  /// Rejected jobs by gateway and reason.
  [[nodiscard]] Result<std::vector<RejectionCount>> rejections();
  /// The oldest `received` job of each gateway that has one.
  [[nodiscard]] Result<std::vector<OldestWaiting>> oldest_waiting();
  /// Arrivals per gateway and minute since `since_ms`.
  [[nodiscard]] Result<std::vector<MinuteCount>> arrivals_per_minute(std::int64_t since_ms);
  /// p50 and p95 of arrival-to-end latency per gateway, over jobs that ended since `since_ms`.
  [[nodiscard]] Result<std::vector<LatencySummary>> latency(std::int64_t since_ms);
  /// For each destination, its most recent finished forward attempt.
  [[nodiscard]] Result<std::vector<LastForward>> last_forwards();
  /// Whether the journal answers a query now.
  [[nodiscard]] Status check();

 private:
  explicit JournalReader(sqlite::Connection connection);

  std::mutex mutex_;  // serialises every use of connection_
  sqlite::Connection connection_;
};

}  // namespace creni::journal
