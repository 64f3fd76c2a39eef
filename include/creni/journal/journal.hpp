#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/journal/forward_records.hpp"
#include "creni/journal/job_records.hpp"
#include "creni/journal/series_records.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/group_commit.hpp"

namespace creni::journal {

/// Number of jobs of one gateway in one state.
struct CountByState {
  std::string gateway_id;
  std::string state;
  std::int64_t count;
};

/// Forwards to one destination by state.
struct DestinationCounts {
  std::string destination;
  std::int64_t sent = 0;     ///< done
  std::int64_t failed = 0;   ///< forward_failed
  std::int64_t unknown = 0;  ///< forward_unknown
  std::int64_t waiting = 0;  ///< waiting or forwarding (not finished yet)
  std::string last_error;    ///< "phase: detail" of the most recent failed or unknown attempt, "" when none
};

/// What an operator's status command shows.
struct StatusReport {
  std::vector<CountByState> counts;         ///< by gateway then state
  std::optional<Job> oldest_waiting;        ///< the oldest job still `received`
  std::vector<Job> last_errors;             ///< the 10 most recent rejected jobs, newest first
  std::vector<DestinationCounts> destinations;  ///< by destination name
};

/// What recover() changed.
struct RecoveryReport {
  int processing_requeued = 0;
  int forwarding_unknown = 0;
};

/// The job state machine and the single source of truth for every arrival: `<state_dir>/journal.db` (SQLite,
/// WAL, busy timeout 5 s). Every method that changes something commits and syncs before it returns, so a change it
/// reports survives a crash or power cut ("durable before acknowledged, recorded before attempted"). Thread-safe:
/// one connection guarded by a sqlite::GroupCommitMutex, which syncs the WAL after releasing the connection, once
/// for every thread that committed meanwhile (group commit); a WAL sync that fails stops the process (exit 3), since
/// the commits already visible may not be on disk. Another process may open the same file; writers then wait for
/// each other up to the busy timeout ("busy").
/// Errors common to all methods: "sqlite_error", "busy"; "not_found" for an unknown job or forward id;
/// "invalid_transition" for a change the state machine does not allow from the current state.
class Journal {
 public:
  /// Opens (creating when missing) the journal file; its folder must exist. Creates or checks the schema
  /// (PRAGMA user_version). Errors: "sqlite_error", "busy", "unsupported_schema" (written by a newer version).
  [[nodiscard]] static Result<std::unique_ptr<Journal>> open(const std::filesystem::path& database_file);

  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  /// Run once at start, before any work: `processing` jobs go back to `received` (their attempt stays counted,
  /// so a job that kills the node repeatedly ends as poison); forwards left `forwarding` become
  /// `forward_unknown`: the peer may have stored the image, so it is never sent again automatically.
  [[nodiscard]] Result<RecoveryReport> recover();

  /// Records an arrival in one transaction, committed before returning. In order:
  /// a job with the same input path and content hash -> same_file (that job, the most recent);
  /// else, when the SOP Instance UID is known, a job of the same gateway with that UID not `rejected`:
  ///   same hash, or both canonical hashes known and equal (the same instance in another transfer syntax or with
  ///   another meta header) -> duplicate (no new row); other content -> known_conflict when a "conflict" job of
  ///   the gateway has that UID and these bytes or this canonical hash already (a sender retrying, perhaps in
  ///   another transfer syntax), else conflict (a new `rejected` job, reason "conflict");
  /// else a new `received` job -> created.
  [[nodiscard]] Result<RecordedArrival> record_arrival(const NewArrival& arrival);
  /// record_arrival for several arrivals in one transaction (one commit for a burst); results in the same order.
  /// All or nothing: on error nothing of the batch is recorded.
  [[nodiscard]] Result<std::vector<RecordedArrival>> record_arrivals(const std::vector<NewArrival>& arrivals);

  /// record_arrivals() committed without waiting for the disk (no WAL sync on release): the rows survive a crash of
  /// the process but not a power cut. Only for arrivals that are durable without the journal, from which the start
  /// after a power cut records them again: an SCP spool file carrying its own synced record
  /// (ingest::recover_spooled_arrival), or a folder-door file, which is acknowledged to no one and stays in INPUT
  /// until its result is recorded (synced), so the start-up rescan finds it. Any later synced commit makes these
  /// rows durable too (the WAL is written in order). Same errors as record_arrivals().
  [[nodiscard]] Result<std::vector<RecordedArrival>> record_arrivals_unsynced(const std::vector<NewArrival>& arrivals);

  /// Records an arrival that was refused before it became work (symbolic link, unreadable, ...) as a `rejected`
  /// job with `reason` and `detail`. Returns the new job id.
  [[nodiscard]] Result<std::int64_t> record_rejected_arrival(const NewArrival& arrival, const std::string& reason,
                                                             const std::string& detail);

  /// Takes the next `received` job that is due: fresh jobs before retries (attempts > 0), and among the gateways
  /// with such work the one whose last claim is oldest, its oldest job: attempts + 1, state `processing`,
  /// committed before returning. A job whose
  /// attempts already reached `max_attempts` (at least 1) becomes `rejected` ("poison", "worker failed N times:
  /// <last detail>") and the next one is taken. nullopt when nothing is waiting.
  [[nodiscard]] Result<std::optional<Job>> claim_next(int max_attempts);

  // Commits whose sync waits for the next synced commit (GroupCommitMutex::skip_sync; record_arrivals_unsynced,
  // above, is the other one): written to the WAL, so they survive a crash or SIGKILL of the node (the page cache
  // keeps them), and made durable against a power cut by the next commit that syncs (every other function here,
  // e.g. mark_written, which follows both of these before anything is given up). Only for records whose loss in a
  // power cut loses nothing.
  /// claim_next without a sync of its own: the claim is durable with the job's next record (written, returned,
  /// rejected). A power cut can only lose the count of an attempt that was still running: the job runs again.
  [[nodiscard]] Result<std::optional<Job>> claim_next_unsynced(int max_attempts);

  /// `processing` -> `received` after a failed attempt that may succeed later (worker crash, timeout).
  [[nodiscard]] Status return_to_received(std::int64_t job_id, const std::string& reason, const std::string& detail);

  /// `received` or `processing` -> `rejected`, with the reason (a machine code) and detail.
  /// processing -> received for a failure outside the image (disk full, OUTPUT not writable): the attempt is
  /// given back and the job is not claimed again before `delay` has passed.
  [[nodiscard]] Status defer(std::int64_t job_id, const std::string& reason, const std::string& detail,
                             std::chrono::milliseconds delay);
  [[nodiscard]] Status mark_rejected(std::int64_t job_id, const std::string& reason, const std::string& detail);

  /// `processing` -> `written` with the output file and its SOP Instance UID. With destinations, one forward per
  /// distinct destination is queued (`waiting`) in the same transaction; the job's state then follows its
  /// forwards: `forwarding` once one was attempted and some are unfinished; when all are finished, `done` if all
  /// succeeded, else `forward_unknown` if any is unknown, else `forward_failed`.
  /// `relocated_input`, when not empty, becomes the job's input path in the same transaction (an SCP arrival whose
  /// spool file now lies in INPUT/gateway_<id>/). `series_member`, when given, adds the instance to its series
  /// (add_to_series) in the same transaction.
  [[nodiscard]] Status mark_written(std::int64_t job_id, const std::filesystem::path& output,
                                    const std::string& result_sop_instance_uid,
                                    const std::vector<std::string>& destinations,
                                    const std::filesystem::path& relocated_input = {},
                                    const SeriesMember* series_member = nullptr);
  /// mark_written, then claim_next, in one transaction: a pipeline thread records its result and takes its next
  /// job with one durable write. Returns the claimed job (nullopt when none is waiting).
  [[nodiscard]] Result<std::optional<Job>> mark_written_and_claim_next(std::int64_t job_id,
                                                                      const std::filesystem::path& output,
                                                                      const std::string& result_sop_instance_uid,
                                                                      const std::vector<std::string>& destinations,
                                                                      const std::filesystem::path& relocated_input,
                                                                      int max_attempts,
                                                                      const SeriesMember* series_member = nullptr);

  /// Takes the oldest `waiting` forward to `destination` that is due (no retry time, or retry time reached):
  /// state `forwarding`, attempts + 1, committed before returning, so the attempt is recorded before it is made.
  /// nullopt when nothing is due.
  [[nodiscard]] Result<std::optional<ForwardTask>> claim_forward(const std::string& destination);

  /// Records how a claimed (`forwarding`) forward ended. `outcome.state` must be done, forward_failed or
  /// forward_unknown ("invalid_transition" otherwise). A forward_failed outcome with `retry_at_ms` goes back to
  /// `waiting`, due at that time (its detail kept). forward_unknown never goes back to waiting: `retry_at_ms` is
  /// ignored for it.
  [[nodiscard]] Status record_forward_outcome(std::int64_t task_id, const ForwardOutcome& outcome,
                                              std::optional<std::int64_t> retry_at_ms = std::nullopt);

  /// Like claim_forward for up to `limit` due forwards at once (oldest first), in one commit: a burst to one
  /// destination pays one sync for many claims. Each is `forwarding` with its attempt counted before it returns.
  [[nodiscard]] Result<std::vector<ForwardTask>> claim_forwards(const std::string& destination, std::size_t limit);

  /// Records the outcomes of claimed forwards (as record_forward_outcome, each) and claims up to `limit` due
  /// forwards to `destination` (as claim_forwards; none with `limit` 0), all in one commit: nothing is recorded or
  /// claimed unless everything is. Errors as record_forward_outcome's.
  [[nodiscard]] Result<std::vector<ForwardTask>> record_forward_outcomes_and_claim(
      const std::vector<ForwardResult>& results, const std::string& destination, std::size_t limit);

  /// The job, or nullopt when there is none with this id.
  [[nodiscard]] Result<std::optional<Job>> find_job(std::int64_t job_id);

  /// Up to `limit` jobs in `state`, oldest first (a negative limit: all).
  [[nodiscard]] Result<std::vector<Job>> jobs_in_state(JobState state, int limit);

  /// Up to `limit` jobs with a result (written or later) whose image.db rows were never confirmed by
  /// mark_catalogued, oldest first: after a crash, the rows the node must add again. A negative limit: all.
  [[nodiscard]] Result<std::vector<Job>> jobs_awaiting_catalogue(int limit);
  /// The image.db rows of these jobs' results are committed (one transaction; unknown ids are ignored).
  [[nodiscard]] Status mark_catalogued(const std::vector<std::int64_t>& job_ids);

  /// The forwards of one job, oldest first (empty for an unknown job).
  [[nodiscard]] Result<std::vector<Forward>> forwards_of(std::int64_t job_id);

  /// Counts and recent errors for operators.
  [[nodiscard]] Result<StatusReport> report();

  /// Operator: jobs in rejected, done, written, forward_failed or forward_unknown go back to `received` with
  /// attempts 0 and their forwards deleted (others are left alone). One transaction; an unknown id is
  /// "not_found" and changes nothing. Returns how many jobs changed.
  [[nodiscard]] Result<int> reprocess(const std::vector<std::int64_t>& job_ids);

  /// Operator: `received` or `rejected` jobs become `rejected` with reason "discarded" (they are never
  /// processed). One transaction; an unknown id is "not_found" and changes nothing. Returns how many changed.
  [[nodiscard]] Result<int> discard(const std::vector<std::int64_t>& job_ids);

  /// Operator: the forward_failed and forward_unknown forwards of these jobs go back to `waiting`, due now,
  /// detail "resend by operator", attempts kept. One transaction; an unknown id is "not_found" and changes
  /// nothing. Returns how many forwards were queued again.
  [[nodiscard]] Result<int> resend(const std::vector<std::int64_t>& job_ids);

  /// The job an arrival of this SOP Instance UID in this gateway would be compared with (the oldest that is not
  /// `rejected`), or nullopt.
  [[nodiscard]] Result<std::optional<Job>> find_instance(const std::string& gateway_id,
                                                         const std::string& sop_instance_uid);
  /// Stores the canonical content identity of a job's input (computed when an arrival suspected a conflict).
  [[nodiscard]] Status set_canonical_hash(std::int64_t job_id, const std::string& canonical_hash);
  /// A rejected job's input now lies at `input_path` (moved into quarantine). "not_found" for an unknown job.
  [[nodiscard]] Status set_input_path(std::int64_t job_id, const std::filesystem::path& input_path);

  /// Whether any job's input is this path (for start-up clean-up of received files that were never recorded).
  [[nodiscard]] Result<bool> has_job_for_input(const std::filesystem::path& input_path);
  /// Number of jobs in `state`.
  [[nodiscard]] Result<std::int64_t> count_in_state(JobState state);

  /// Whether the journal file this connection writes to is still the one at its path (same device and inode).
  /// SQLite keeps writing to a deleted or replaced file, so everything recorded afterwards would be lost; the node
  /// checks this periodically and before recording arrivals. Error "journal_replaced" (deleted, moved away or
  /// replaced by another file).
  [[nodiscard]] Status check_file_in_place() const;
  /// How many syncs of the WAL this journal has made since it was opened (shared by the threads that committed
  /// meanwhile, so usually fewer than its commits).
  [[nodiscard]] std::uint64_t wal_syncs() const { return mutex_.syncs(); }

  // ---- Series (journal_series.cpp) ----

  /// At start, before the series jobs run: runs left `reporting` go back to `complete` (their attempt stays
  /// counted). Returns how many.
  [[nodiscard]] Result<int> recover_series();
  /// The SCP association `association` has ended (released or aborted): a series whose last instance it carried
  /// may now be complete ("release"). Idempotent.
  [[nodiscard]] Status record_association_ended(const std::string& association, std::int64_t ended_at_ms);
  /// Every `open` run, oldest first, with its association's state (for the completion signals).
  [[nodiscard]] Result<std::vector<SeriesRecord>> open_series();
  /// `open` -> `complete`, with the signal that decided it ("expected_count", "release", "idle", "max_wait").
  /// "invalid_transition" when the run is no longer open.
  [[nodiscard]] Status complete_series(std::int64_t series_id, const std::string& completed_by);
  /// Takes the oldest `complete` run: attempts + 1, state `reporting`, committed before returning. A run whose
  /// attempts reached `max_attempts` becomes `failed` ("poison") and the next one is taken. nullopt when none.
  [[nodiscard]] Result<std::optional<SeriesRun>> claim_series(int max_attempts);
  /// `reporting` -> `reported`: the report becomes a job of the series' gateway, `written` with its forwards
  /// queued to `destinations` (the same ledger as every result), in one transaction. Returns that job's id.
  [[nodiscard]] Result<std::int64_t> record_series_report(std::int64_t series_id, const SeriesReport& report,
                                                          const std::vector<std::string>& destinations);
  /// `reporting` -> `complete` (to run again, once its attempts allow) or, with `final`, -> `failed`.
  [[nodiscard]] Status record_series_failure(std::int64_t series_id, const std::string& reason,
                                             const std::string& detail, bool final);
  /// A run by id (nullopt when unknown).
  [[nodiscard]] Result<std::optional<SeriesRecord>> find_series(std::int64_t series_id);
  /// Open runs and the `limit` most recent others, for operators (open first, then newest first).
  [[nodiscard]] Result<std::vector<SeriesRecord>> series_overview(int limit);
  /// The oldest job other than `job_id` whose recorded result is `output`, or nullopt when no other job claims
  /// that file (it is then `job_id`'s own: committed before a crash, or before an operator's reprocess).
  [[nodiscard]] Result<std::optional<std::int64_t>> other_job_with_output(const std::filesystem::path& output,
                                                                          std::int64_t job_id);

 private:
  Journal(sqlite::Connection connection, std::filesystem::path file, std::uint64_t device, std::uint64_t inode);
  // Adds a written job to the open run of its series (creating it, or a late run), inside the caller's transaction.
  Status add_to_series(std::int64_t job_id, const SeriesMember& member);
  // record_arrival's decision, inside a transaction the caller holds (with mutex_ locked).
  Result<RecordedArrival> record_one_arrival(const NewArrival& arrival);
  // record_arrivals' transaction, with mutex_ locked.
  Result<std::vector<RecordedArrival>> record_arrivals_locked(const std::vector<NewArrival>& arrivals);
  Result<std::optional<Job>> claim_next_in_transaction(int max_attempts);
  // processing -> received; with `deferred_by`, the attempt is given back and the job waits that long.
  Status requeue(std::int64_t job_id, const std::string& reason, const std::string& detail,
                 std::optional<std::chrono::milliseconds> deferred_by);
  // Runs `sql` (parameters: now, job id) for every job in one transaction, after checking that all exist.
  Result<int> update_each_job(const std::vector<std::int64_t>& job_ids, std::string_view sql, std::string_view what,
                              const std::function<Status(std::int64_t)>& after_each);
  Result<std::vector<ForwardTask>> claim_forwards_in_transaction(const std::string& destination, std::size_t limit);
  Status record_forward_outcome_in_transaction(const ForwardResult& result);
  Status mark_written_in_transaction(std::int64_t job_id, const std::filesystem::path& output,
                                     const std::string& result_sop_instance_uid,
                                     const std::vector<std::string>& destinations,
                                     const std::filesystem::path& relocated_input,
                                     const SeriesMember* series_member);

  sqlite::Connection connection_;
  // Serialises every use of connection_, and makes the commits made under it durable when it is released (one WAL
  // sync shared by the threads that committed meanwhile: the connection runs with synchronous=NORMAL).
  sqlite::GroupCommitMutex mutex_;
  // Round robin between gateways in claim_next (guarded by mutex_): the claim number of each gateway's last claim.
  std::map<std::string, std::uint64_t> last_claimed_;
  std::uint64_t claims_ = 0;
  const std::filesystem::path file_;
  const std::uint64_t device_;  // of file_ when it was opened
  const std::uint64_t inode_;
};

}  // namespace creni::journal
