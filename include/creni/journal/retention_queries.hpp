#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/journal/journal.hpp"
#include "creni/sqlite/connection.hpp"

namespace creni::journal {

/// A job whose result the sweeper may delete (or is deleting), with what it needs to find every trace of it.
struct SweepCandidate {
  std::int64_t job_id = 0;
  std::string gateway_id;
  Source source = Source::folder;
  std::filesystem::path input_path;        ///< for an SCP arrival, the copy the node placed in INPUT/gateway_<id>/
  std::filesystem::path output_path;
  std::string sop_instance_uid;            ///< the original's (its INPUT image.db row)
  std::string result_sop_instance_uid;     ///< the result's (its OUTPUT image.db row)
  std::int64_t created_at_ms = 0;
  std::int64_t finished_at_ms = 0;         ///< when the job last changed state (result written, forwards ended)
};

/// A finished job the journal may forget.
struct PrunableJob {
  std::int64_t job_id = 0;
  std::string gateway_id;
  JobState state = JobState::done;
  std::filesystem::path input_path;
  std::int64_t updated_at_ms = 0;
};

/// Rows per table of the journal.
struct JournalRows {
  std::int64_t jobs = 0;
  std::int64_t forwards = 0;
};

/// The retention sweeper's view of the journal: which results may go, marking them while they go, forgetting old
/// finished jobs and giving freed pages back. It has its own connection to `journal.db` (opened after
/// Journal::open made or upgraded the schema), so its short transactions never wait on the Journal's mutex;
/// SQLite's lock serialises the writes (busy timeout 5 s).
///
/// The rule that protects undelivered results, applied when candidates are listed and again when they are
/// marked: without `include_unforwarded`, only `written` and `done` jobs whose forwards are all `done`; with it,
/// every finished job and every job none of whose forwards is being sent right now (`forwarding`).
/// Thread-safe (one mutex per object). Errors "sqlite_error" and "busy" on every call.
class RetentionQueries {
 public:
  /// Errors as Connection::open; "unsupported_schema" when the journal has no retention column yet.
  [[nodiscard]] static Result<std::unique_ptr<RetentionQueries>> open(const std::filesystem::path& journal_file);

  RetentionQueries(const RetentionQueries&) = delete;
  RetentionQueries& operator=(const RetentionQueries&) = delete;
  ~RetentionQueries();

  /// Up to `limit` results of `gateway_id` with id > `after_job_id`, oldest first (by job id), kept, their
  /// image.db rows confirmed (catalogue_pending 0), allowed by the rule above.
  [[nodiscard]] Result<std::vector<SweepCandidate>> results_to_sweep(const std::string& gateway_id,
                                                                     bool include_unforwarded,
                                                                     std::int64_t after_job_id, int limit);

  /// How many results of `gateway_id` finished before `cutoff_ms` are kept although they are past it, because
  /// the rule above (without include_unforwarded) protects them: not yet delivered everywhere.
  [[nodiscard]] Result<std::int64_t> count_undelivered(const std::string& gateway_id, std::int64_t cutoff_ms);

  /// Marks these results `sweeping` in one transaction, each only if the rule still allows it (a forward queued
  /// again since they were listed keeps its result). With `include_unforwarded`, their `waiting` forwards become
  /// `forward_failed` ("result removed by retention before it was sent") and the job's state follows.
  /// Returns the ids marked, in the given order.
  [[nodiscard]] Result<std::vector<std::int64_t>> begin_sweep(const std::vector<std::int64_t>& job_ids,
                                                              bool include_unforwarded);

  /// Results left `sweeping` by a sweep that was interrupted (crash, stop), oldest first.
  [[nodiscard]] Result<std::vector<SweepCandidate>> interrupted_sweeps(int limit);

  /// `sweeping` -> `swept`: every trace of these results is gone (one transaction).
  [[nodiscard]] Status finish_sweep(const std::vector<std::int64_t>& job_ids);

  /// Up to `limit` finished jobs (`written`, `done`, `rejected`, `forward_failed`, `forward_unknown`) last changed
  /// before `cutoff_ms` that have no result left (none, or swept), after (`after_updated_ms`, `after_job_id`) in
  /// the order (updated_at_ms, id). The caller decides which of them to forget (delete_jobs).
  [[nodiscard]] Result<std::vector<PrunableJob>> jobs_to_prune(std::int64_t cutoff_ms, std::int64_t after_updated_ms,
                                                               std::int64_t after_job_id, int limit);

  /// Deletes these jobs and their forwards in one transaction. Returns how many jobs were deleted.
  [[nodiscard]] Result<int> delete_jobs(const std::vector<std::int64_t>& job_ids);

  /// Gives up to `max_pages` free pages back to the file system (PRAGMA incremental_vacuum). Returns how many.
  [[nodiscard]] Result<std::int64_t> reclaim_space(int max_pages);

  /// Copies what the write-ahead log holds into the database without waiting for (or blocking) any writer
  /// (PRAGMA wal_checkpoint(PASSIVE)), so that the next commit of an arrival does not find the log above
  /// SQLite's auto-checkpoint threshold and copy the sweeper's pages itself, in the C-STORE's time. Returns the
  /// frames copied.
  [[nodiscard]] Result<std::int64_t> checkpoint();

  /// Rows in jobs and forwards.
  [[nodiscard]] Result<JournalRows> rows();

 private:
  explicit RetentionQueries(sqlite::Connection connection);

  std::mutex mutex_;  // serialises every use of connection_
  sqlite::Connection connection_;
};

}  // namespace creni::journal
