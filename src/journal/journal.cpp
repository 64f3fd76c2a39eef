#include "creni/journal/journal.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <initializer_list>
#include <set>
#include <utility>

#include "creni/sqlite/statement.hpp"
#include "creni/common/clock.hpp"
#include "creni/sqlite/transaction.hpp"
#include "retention_schema.hpp"

namespace creni::journal {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("journal");
  return named ? named : spdlog::default_logger();
}

constexpr int kSchemaVersion = retention_schema::kVersion;
constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);
constexpr int kLastErrorsShown = 10;

// The CHECK constraints keep every stored state parseable, so reading a row never has to guess.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  gateway_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('folder', 'scp')),
  input_path TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('received', 'processing', 'written', 'forwarding', 'done', 'rejected',
                                       'forward_failed', 'forward_unknown')),
  attempts INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  output_path TEXT NOT NULL DEFAULT '',
  result_sop_instance_uid TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  catalogue_pending INTEGER NOT NULL DEFAULT 0,
  retry_at_ms INTEGER
);
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_to_catalogue ON jobs(id) WHERE catalogue_pending = 1;
CREATE INDEX jobs_by_sop_instance ON jobs(gateway_id, sop_instance_uid);
CREATE INDEX jobs_by_input_path ON jobs(input_path);
CREATE TABLE forwards(
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  destination TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'forwarding', 'done', 'forward_failed', 'forward_unknown')),
  attempts INTEGER NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  dimse_status INTEGER NOT NULL DEFAULT -1,
  next_attempt_at_ms INTEGER,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX forwards_by_destination ON forwards(destination, state, id);
CREATE INDEX forwards_by_job ON forwards(job_id);
)sql";

// Version 1 -> 2: image.db rows are confirmed per job, so that a crash between the result and its image.db row
// is repaired at the next start (rows written before the upgrade are taken as indexed); a job that failed for a
// reason outside the image (disk full, read-only OUTPUT) waits until retry_at_ms before it is claimed again.
constexpr std::string_view kMigrationToVersion2 = R"sql(
ALTER TABLE jobs ADD COLUMN catalogue_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN retry_at_ms INTEGER;
CREATE INDEX jobs_to_catalogue ON jobs(id) WHERE catalogue_pending = 1;
)sql";

constexpr std::string_view kJobColumns =
    "id, gateway_id, source, input_path, sop_instance_uid, content_hash, state, attempts, reason, detail, "
    "output_path, result_sop_instance_uid, created_at_ms, updated_at_ms";

constexpr std::string_view kForwardColumns =
    "id, job_id, destination, state, attempts, phase, detail, dimse_status, next_attempt_at_ms, updated_at_ms";

std::string sql_with(std::string_view before, std::string_view columns, std::string_view after) {
  std::string sql(before);
  sql += columns;
  sql += after;
  return sql;
}

// Parameter binding for the handful of types the journal stores.
Status bind_value(sqlite::Statement& statement, int index, std::int64_t value) { return statement.bind(index, value); }
Status bind_value(sqlite::Statement& statement, int index, int value) { return statement.bind(index, value); }
Status bind_value(sqlite::Statement& statement, int index, std::string_view value) {
  return statement.bind(index, value);
}
Status bind_value(sqlite::Statement& statement, int index, const std::string& value) {
  return statement.bind(index, value);
}
Status bind_value(sqlite::Statement& statement, int index, const std::optional<std::int64_t>& value) {
  return value ? statement.bind(index, *value) : statement.bind(index, nullptr);
}

// Prepares `sql` and binds `args` to its parameters 1..n.
template <typename... Args>
Result<sqlite::Statement> prepared(sqlite::Connection& db, std::string_view sql, const Args&... args) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  int index = 0;
  Status bound;
  ((bound = bound.ok() ? bind_value(*statement, ++index, args) : bound), ...);
  if (!bound) return bound.error();
  return statement;
}

// Runs a statement that returns no rows; returns the number of rows it changed.
template <typename... Args>
Result<int> execute(sqlite::Connection& db, std::string_view sql, const Args&... args) {
  auto statement = prepared(db, sql, args...);
  if (!statement) return statement.error();
  auto stepped = statement->step();
  if (!stepped) return stepped.error();
  return db.changes();
}

// The first column of the first row as an integer; nullopt when there is no row.
template <typename... Args>
Result<std::optional<std::int64_t>> query_int(sqlite::Connection& db, std::string_view sql, const Args&... args) {
  auto statement = prepared(db, sql, args...);
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{statement->column_int64(0)};
}

Job read_job(const sqlite::Statement& row) {
  Job job;
  job.id = row.column_int64(0);
  job.gateway_id = row.column_text(1);
  job.source = row.column_text(2) == "scp" ? Source::scp : Source::folder;
  job.input_path = row.column_text(3);
  job.sop_instance_uid = row.column_text(4);
  job.content_hash = row.column_text(5);
  job.state = parse_job_state(row.column_text(6)).value_or(JobState::rejected);
  job.attempts = static_cast<int>(row.column_int64(7));
  job.reason = row.column_text(8);
  job.detail = row.column_text(9);
  job.output_path = row.column_text(10);
  job.result_sop_instance_uid = row.column_text(11);
  job.created_at_ms = row.column_int64(12);
  job.updated_at_ms = row.column_int64(13);
  return job;
}

Result<std::vector<Job>> read_jobs(sqlite::Statement& statement) {
  std::vector<Job> jobs;
  while (true) {
    auto row = statement.step();
    if (!row) return row.error();
    if (!row.value()) return jobs;
    jobs.push_back(read_job(statement));
  }
}

Result<std::optional<Job>> load_job(sqlite::Connection& db, std::int64_t job_id) {
  auto statement = prepared(db, sql_with("SELECT ", kJobColumns, " FROM jobs WHERE id = ?"), job_id);
  if (!statement) return statement.error();
  auto jobs = read_jobs(*statement);
  if (!jobs) return jobs.error();
  if (jobs->empty()) return std::optional<Job>{};
  return std::optional<Job>{std::move(jobs->front())};
}

Result<std::int64_t> insert_job(sqlite::Connection& db, const NewArrival& arrival, JobState state,
                                const std::string& reason, const std::string& detail) {
  const std::int64_t now = unix_time_ms();
  auto inserted = execute(db,
                          "INSERT INTO jobs(gateway_id, source, input_path, sop_instance_uid, content_hash, state, "
                          "reason, detail, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          arrival.gateway_id, to_string(arrival.source), arrival.input_path.string(),
                          arrival.sop_instance_uid, arrival.content_hash, to_string(state), reason, detail, now, now);
  if (!inserted) return inserted.error();
  return db.last_insert_rowid();
}

Error job_not_found(std::int64_t job_id) { return make_error("not_found", "no job " + std::to_string(job_id)); }

// The current state of a job: "not_found" when it does not exist.
Result<JobState> state_of(sqlite::Connection& db, std::int64_t job_id) {
  auto statement = prepared(db, "SELECT state FROM jobs WHERE id = ?", job_id);
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return job_not_found(job_id);
  return parse_job_state(statement->column_text(0)).value_or(JobState::rejected);
}

// Checks that `job_id` exists and is in one of `from`, for a change to `to`.
Status check_transition(sqlite::Connection& db, std::int64_t job_id, std::initializer_list<JobState> from,
                        JobState to) {
  auto state = state_of(db, job_id);
  if (!state) return state.error();
  if (std::find(from.begin(), from.end(), state.value()) == from.end()) {
    return make_error("invalid_transition", "job " + std::to_string(job_id) + " is " +
                                                std::string(to_string(state.value())) + ", cannot become " +
                                                std::string(to_string(to)));
  }
  return {};
}

Status set_state(sqlite::Connection& db, std::int64_t job_id, JobState state, const std::string& reason,
                 const std::string& detail) {
  auto updated = execute(db, "UPDATE jobs SET state = ?, reason = ?, detail = ?, updated_at_ms = ? WHERE id = ?",
                         to_string(state), reason, detail, unix_time_ms(), job_id);
  if (!updated) return updated.error();
  return {};
}

// A job with forwards takes its state from them (see Journal::mark_written).
Status refresh_job_from_forwards(sqlite::Connection& db, std::int64_t job_id) {
  auto statement = prepared(db, "SELECT state, attempts FROM forwards WHERE job_id = ?", job_id);
  if (!statement) return statement.error();
  bool any = false;
  bool attempted = false;
  bool forwarding = false;
  bool waiting = false;
  bool unknown = false;
  bool failed = false;
  while (true) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) break;
    any = true;
    const auto state = parse_forward_state(statement->column_text(0)).value_or(ForwardState::forward_unknown);
    attempted = attempted || statement->column_int64(1) > 0;
    forwarding = forwarding || state == ForwardState::forwarding;
    waiting = waiting || state == ForwardState::waiting;
    unknown = unknown || state == ForwardState::forward_unknown;
    failed = failed || state == ForwardState::forward_failed;
  }
  if (!any) return {};

  JobState job_state = JobState::done;
  if (forwarding || (waiting && attempted)) {
    job_state = JobState::forwarding;
  } else if (waiting) {
    job_state = JobState::written;  // queued, nothing attempted yet
  } else if (unknown) {
    job_state = JobState::forward_unknown;
  } else if (failed) {
    job_state = JobState::forward_failed;
  }
  // Only a real change moves updated_at_ms, so that it tells when the job last changed state.
  auto updated = execute(db, "UPDATE jobs SET state = ?, updated_at_ms = ? WHERE id = ? AND state <> ?",
                         to_string(job_state), unix_time_ms(), job_id, to_string(job_state));
  if (!updated) return updated.error();
  return {};
}

Result<std::vector<Forward>> read_forwards(sqlite::Statement& statement) {
  std::vector<Forward> forwards;
  while (true) {
    auto row = statement.step();
    if (!row) return row.error();
    if (!row.value()) return forwards;
    Forward forward;
    forward.id = statement.column_int64(0);
    forward.job_id = statement.column_int64(1);
    forward.destination = statement.column_text(2);
    forward.state = parse_forward_state(statement.column_text(3)).value_or(ForwardState::forward_unknown);
    forward.attempts = static_cast<int>(statement.column_int64(4));
    forward.phase = statement.column_text(5);
    forward.detail = statement.column_text(6);
    forward.dimse_status = static_cast<int>(statement.column_int64(7));
    if (!statement.column_is_null(8)) forward.next_attempt_at_ms = statement.column_int64(8);
    forward.updated_at_ms = statement.column_int64(9);
    forwards.push_back(std::move(forward));
  }
}

// Every id must name a job: an operator's typo must not half-apply a command.
Status check_all_exist(sqlite::Connection& db, const std::vector<std::int64_t>& job_ids) {
  for (const std::int64_t id : job_ids) {
    auto state = state_of(db, id);
    if (!state) return state.error();
  }
  return {};
}

template <typename T>
Result<T> committed(sqlite::Transaction& transaction, T value) {
  if (Status done = transaction.commit(); !done) return done.error();
  return value;
}

}  // namespace

Journal::Journal(sqlite::Connection connection) : connection_(std::move(connection)) {}

Journal::~Journal() = default;

Result<std::unique_ptr<Journal>> Journal::open(const std::filesystem::path& database_file) {
  auto connection = sqlite::Connection::open(database_file, sqlite::OpenMode::read_write_create, kBusyTimeout);
  if (!connection) return connection.error();
  sqlite::Connection& db = connection.value();
  if (Status vacuum = retention_schema::request_incremental_vacuum(db); !vacuum) return vacuum.error();
  if (Status wal = db.enable_durable_wal(); !wal) return wal.error();

  // Schema creation in one IMMEDIATE transaction: a second process opening a new file at the same moment waits
  // and then finds the schema made.
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return transaction.error();
  auto version = db.user_version();
  if (!version) return version.error();
  if (version.value() > kSchemaVersion) {
    return make_error("unsupported_schema", database_file.string() + " has schema version " +
                                                std::to_string(version.value()) + ", this build knows up to " +
                                                std::to_string(kSchemaVersion));
  }
  if (version.value() == 0) {
    if (Status created = db.exec(kSchema); !created) return created.error();
  } else if (version.value() == 1) {
    if (Status migrated = db.exec(kMigrationToVersion2); !migrated) return migrated.error();
    logger()->info("{} upgraded from schema version 1 to {}", database_file.string(), kSchemaVersion);
  }
  if (version.value() < retention_schema::kVersion) {
    if (Status migrated = retention_schema::migrate(db); !migrated) return migrated.error();
  }
  if (version.value() != kSchemaVersion) {
    if (Status versioned = db.set_user_version(kSchemaVersion); !versioned) return versioned.error();
  }
  if (Status done = transaction->commit(); !done) return done.error();
  if (Status vacuum = retention_schema::convert_to_incremental_vacuum(db, database_file); !vacuum) return vacuum.error();
  return std::unique_ptr<Journal>(new Journal(std::move(connection).value()));
}

Result<RecoveryReport> Journal::recover() {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  const std::int64_t now = unix_time_ms();
  RecoveryReport report;

  auto requeued = execute(connection_,
                          "UPDATE jobs SET state = 'received', reason = 'interrupted', "
                          "detail = 'the node stopped while the job was processing', updated_at_ms = ? "
                          "WHERE state = 'processing'",
                          now);
  if (!requeued) return requeued.error();
  report.processing_requeued = requeued.value();

  std::vector<std::int64_t> affected_jobs;
  {
    auto statement = prepared(connection_, "SELECT DISTINCT job_id FROM forwards WHERE state = 'forwarding'");
    if (!statement) return statement.error();
    while (true) {
      auto row = statement->step();
      if (!row) return row.error();
      if (!row.value()) break;
      affected_jobs.push_back(statement->column_int64(0));
    }
  }
  // The peer may have stored the image before the node stopped: sending again could duplicate it, so these
  // wait for an operator (resend) instead.
  auto unknown = execute(connection_,
                         "UPDATE forwards SET state = 'forward_unknown', phase = 'interrupted', "
                         "detail = 'the node stopped during the attempt; the destination may have stored it', "
                         "updated_at_ms = ? WHERE state = 'forwarding'",
                         now);
  if (!unknown) return unknown.error();
  report.forwarding_unknown = unknown.value();
  for (const std::int64_t job_id : affected_jobs) {
    if (Status refreshed = refresh_job_from_forwards(connection_, job_id); !refreshed) return refreshed.error();
  }
  auto done = committed(*transaction, report);
  if (done && (report.processing_requeued > 0 || report.forwarding_unknown > 0)) {
    logger()->warn("recovery: {} job(s) back to received, {} forward(s) now forward_unknown",
                   report.processing_requeued, report.forwarding_unknown);
  }
  return done;
}

Result<RecordedArrival> Journal::record_arrival(const NewArrival& arrival) {
  auto recorded = record_arrivals({arrival});
  if (!recorded) return recorded.error();
  return recorded->front();
}

Result<std::vector<RecordedArrival>> Journal::record_arrivals(const std::vector<NewArrival>& arrivals) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  std::vector<RecordedArrival> recorded;
  recorded.reserve(arrivals.size());
  for (const NewArrival& arrival : arrivals) {
    auto one = record_one_arrival(arrival);
    if (!one) return one.error();
    recorded.push_back(one.value());
  }
  // One commit (one fsync) for the whole batch: a burst of files costs one durable write, not one per file.
  if (Status done = transaction->commit(); !done) return done.error();
  for (std::size_t i = 0; i < arrivals.size(); ++i) {
    if (recorded[i].outcome == ArrivalOutcome::conflict) {
      logger()->warn("gw={} job={} sop={} rejected: conflict", arrivals[i].gateway_id, recorded[i].job_id,
                     arrivals[i].sop_instance_uid);
    }
  }
  return recorded;
}

Result<RecordedArrival> Journal::record_one_arrival(const NewArrival& arrival) {
  auto same_file = query_int(connection_,
                             "SELECT id FROM jobs WHERE input_path = ? AND content_hash = ? ORDER BY id DESC LIMIT 1",
                             arrival.input_path.string(), arrival.content_hash);
  if (!same_file) return same_file.error();
  if (same_file.value()) return RecordedArrival{ArrivalOutcome::same_file, *same_file.value()};

  if (!arrival.sop_instance_uid.empty()) {
    // Prefer a job with the same bytes, so that a duplicate is never mistaken for a conflict.
    auto statement = prepared(connection_,
                              "SELECT id, content_hash FROM jobs WHERE gateway_id = ? AND sop_instance_uid = ? "
                              "AND state <> 'rejected' ORDER BY content_hash = ? DESC, id LIMIT 1",
                              arrival.gateway_id, arrival.sop_instance_uid, arrival.content_hash);
    if (!statement) return statement.error();
    auto row = statement->step();
    if (!row) return row.error();
    if (row.value()) {
      const std::int64_t existing = statement->column_int64(0);
      const bool same_content = statement->column_text(1) == arrival.content_hash;
      statement->reset();  // done reading before anything is written
      if (same_content) return RecordedArrival{ArrivalOutcome::duplicate, existing};
      const std::string detail =
          "SOP Instance UID already received with other content (job " + std::to_string(existing) + ")";
      auto conflict = insert_job(connection_, arrival, JobState::rejected, "conflict", detail);
      if (!conflict) return conflict.error();
      return RecordedArrival{ArrivalOutcome::conflict, conflict.value()};
    }
  }

  auto created = insert_job(connection_, arrival, JobState::received, "", "");
  if (!created) return created.error();
  return RecordedArrival{ArrivalOutcome::created, created.value()};
}

Result<std::int64_t> Journal::record_rejected_arrival(const NewArrival& arrival, const std::string& reason,
                                                      const std::string& detail) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto created = insert_job(connection_, arrival, JobState::rejected, reason, detail);
  if (!created) return created.error();
  return committed(*transaction, created.value());
}

Result<std::optional<Job>> Journal::claim_next(int max_attempts) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto claimed = claim_next_in_transaction(max_attempts);
  if (!claimed) return claimed.error();
  return committed(*transaction, std::move(claimed).value());
}

Result<std::optional<Job>> Journal::claim_next_in_transaction(int max_attempts) {
  const int limit = std::max(1, max_attempts);
  // Retry times are wall-clock times, so that they survive a restart. A row last touched "in the future" means the
  // clock has been set back since: its retry is due now, rather than as late as the clock went back.
  const std::string next_sql =
      sql_with("SELECT ", kJobColumns,
               " FROM jobs WHERE state = 'received' AND (retry_at_ms IS NULL OR retry_at_ms <= ?1 OR updated_at_ms > ?1) "
               "ORDER BY id LIMIT 1");

  while (true) {
    const std::int64_t now = unix_time_ms();
    auto statement = prepared(connection_, next_sql, now);
    if (!statement) return statement.error();
    auto found = read_jobs(*statement);
    if (!found) return found.error();
    if (found->empty()) return std::optional<Job>{};
    Job job = std::move(found->front());

    if (job.attempts >= limit) {
      // Each attempt was counted before the job went out, so a job that crashes or hangs every worker ends here
      // instead of taking the pipeline down forever.
      const std::string detail = "worker failed " + std::to_string(job.attempts) + " times: " + job.detail;
      auto poisoned = execute(connection_,
                              "UPDATE jobs SET state = 'rejected', reason = 'poison', detail = ?, updated_at_ms = ? "
                              "WHERE id = ?",
                              detail, now, job.id);
      if (!poisoned) return poisoned.error();
      logger()->warn("gw={} job={} sop={} rejected as poison: {}", job.gateway_id, job.id, job.sop_instance_uid,
                     detail);
      continue;
    }

    auto claimed = execute(connection_,
                           "UPDATE jobs SET state = 'processing', attempts = attempts + 1, updated_at_ms = ? "
                           "WHERE id = ?",
                           now, job.id);
    if (!claimed) return claimed.error();
    job.state = JobState::processing;
    job.attempts += 1;
    job.updated_at_ms = now;
    return std::optional<Job>{std::move(job)};
  }
}

Status Journal::return_to_received(std::int64_t job_id, const std::string& reason, const std::string& detail) {
  return requeue(job_id, reason, detail, std::nullopt);
}

Status Journal::defer(std::int64_t job_id, const std::string& reason, const std::string& detail,
                      std::chrono::milliseconds delay) {
  return requeue(job_id, reason, detail, delay);
}

Status Journal::requeue(std::int64_t job_id, const std::string& reason, const std::string& detail,
                        std::optional<std::chrono::milliseconds> deferred_by) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status allowed = check_transition(connection_, job_id, {JobState::processing}, JobState::received); !allowed) {
    return allowed;
  }
  if (Status changed = set_state(connection_, job_id, JobState::received, reason, detail); !changed) return changed;
  if (deferred_by) {
    // Not the image's fault: the attempt is given back, so that waiting out a full disk never makes a job poison.
    auto deferred = execute(connection_,
                            "UPDATE jobs SET attempts = max(0, attempts - 1), retry_at_ms = ? WHERE id = ?",
                            unix_time_ms() + deferred_by->count(), job_id);
    if (!deferred) return deferred.error();
  }
  return transaction->commit();
}

Status Journal::mark_rejected(std::int64_t job_id, const std::string& reason, const std::string& detail) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status allowed = check_transition(connection_, job_id, {JobState::received, JobState::processing},
                                        JobState::rejected);
      !allowed) {
    return allowed;
  }
  if (Status changed = set_state(connection_, job_id, JobState::rejected, reason, detail); !changed) return changed;
  return transaction->commit();
}

Status Journal::mark_written(std::int64_t job_id, const std::filesystem::path& output,
                             const std::string& result_sop_instance_uid, const std::vector<std::string>& destinations,
                             const std::filesystem::path& relocated_input) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status written = mark_written_in_transaction(job_id, output, result_sop_instance_uid, destinations, relocated_input);
      !written) {
    return written;
  }
  return transaction->commit();
}

Result<std::optional<Job>> Journal::mark_written_and_claim_next(std::int64_t job_id, const std::filesystem::path& output,
                                                                const std::string& result_sop_instance_uid,
                                                                const std::vector<std::string>& destinations,
                                                                const std::filesystem::path& relocated_input,
                                                                int max_attempts) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status written = mark_written_in_transaction(job_id, output, result_sop_instance_uid, destinations, relocated_input);
      !written) {
    return written.error();
  }
  auto next = claim_next_in_transaction(max_attempts);
  if (!next) return next.error();
  // One commit for both: the result and the next claim become durable together, one fsync instead of two.
  return committed(*transaction, std::move(next).value());
}

Status Journal::mark_written_in_transaction(std::int64_t job_id, const std::filesystem::path& output,
                                            const std::string& result_sop_instance_uid,
                                            const std::vector<std::string>& destinations,
                                            const std::filesystem::path& relocated_input) {
  if (Status allowed = check_transition(connection_, job_id, {JobState::processing}, JobState::written); !allowed) {
    return allowed;
  }
  const std::int64_t now = unix_time_ms();
  auto written = execute(connection_,
                         "UPDATE jobs SET state = 'written', reason = '', detail = '', output_path = ?, "
                         "result_sop_instance_uid = ?, updated_at_ms = ?, catalogue_pending = 1, retention_state = 'kept' "
                         "WHERE id = ?",
                         output.string(), result_sop_instance_uid, now, job_id);
  if (!written) return written.error();
  if (!relocated_input.empty()) {
    auto moved = execute(connection_, "UPDATE jobs SET input_path = ? WHERE id = ?", relocated_input.string(), job_id);
    if (!moved) return moved.error();
  }

  // A destination listed twice is still one peer: it gets the image once.
  std::set<std::string> queued;
  for (const std::string& destination : destinations) {
    if (destination.empty() || !queued.insert(destination).second) continue;
    auto inserted = execute(connection_,
                            "INSERT INTO forwards(job_id, destination, state, updated_at_ms) VALUES (?, ?, 'waiting', ?)",
                            job_id, destination, now);
    if (!inserted) return inserted.error();
  }
  return {};
}

Result<std::optional<ForwardTask>> Journal::claim_forward(const std::string& destination) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  const std::int64_t now = unix_time_ms();

  // As for jobs (claim_next_in_transaction): a retry time set by a clock that has since gone back is due now.
  auto statement = prepared(connection_,
                            "SELECT f.id, f.job_id, j.gateway_id, j.output_path, j.result_sop_instance_uid, f.attempts "
                            "FROM forwards f JOIN jobs j ON j.id = f.job_id "
                            "WHERE f.destination = ? AND f.state = 'waiting' "
                            "AND (f.next_attempt_at_ms IS NULL OR f.next_attempt_at_ms <= ?2 OR f.updated_at_ms > ?2) "
                            "ORDER BY f.id LIMIT 1",
                            destination, now);
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return committed(*transaction, std::optional<ForwardTask>{});
  ForwardTask task{statement->column_int64(0),
                   statement->column_int64(1),
                   statement->column_text(2),
                   destination,
                   std::filesystem::path(statement->column_text(3)),
                   statement->column_text(4),
                   static_cast<int>(statement->column_int64(5)) + 1};
  statement->reset();

  auto claimed = execute(connection_,
                         "UPDATE forwards SET state = 'forwarding', attempts = attempts + 1, "
                         "next_attempt_at_ms = NULL, updated_at_ms = ? WHERE id = ?",
                         now, task.id);
  if (!claimed) return claimed.error();
  if (Status refreshed = refresh_job_from_forwards(connection_, task.job_id); !refreshed) return refreshed.error();
  return committed(*transaction, std::optional<ForwardTask>{std::move(task)});
}

Status Journal::record_forward_outcome(std::int64_t task_id, const ForwardOutcome& outcome,
                                       std::optional<std::int64_t> retry_at_ms) {
  const std::lock_guard lock(mutex_);
  if (outcome.state == ForwardState::waiting || outcome.state == ForwardState::forwarding) {
    return make_error("invalid_transition", "a forward outcome must be done, forward_failed or forward_unknown, not " +
                                                std::string(to_string(outcome.state)));
  }
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();

  auto statement = prepared(connection_, "SELECT job_id, state FROM forwards WHERE id = ?", task_id);
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return make_error("not_found", "no forward " + std::to_string(task_id));
  const std::int64_t job_id = statement->column_int64(0);
  const std::string current = statement->column_text(1);
  statement->reset();
  if (current != to_string(ForwardState::forwarding)) {
    return make_error("invalid_transition", "forward " + std::to_string(task_id) + " is " + current +
                                                ", not forwarding: no outcome to record");
  }

  ForwardState next = outcome.state;
  std::optional<std::int64_t> next_attempt;
  // Only a clear failure is retried: after forward_unknown the peer may hold the image already.
  if (outcome.state == ForwardState::forward_failed && retry_at_ms) {
    next = ForwardState::waiting;
    next_attempt = retry_at_ms;
  }
  auto updated = execute(connection_,
                         "UPDATE forwards SET state = ?, phase = ?, detail = ?, dimse_status = ?, "
                         "next_attempt_at_ms = ?, updated_at_ms = ? WHERE id = ?",
                         to_string(next), outcome.phase, outcome.detail, outcome.dimse_status, next_attempt, unix_time_ms(),
                         task_id);
  if (!updated) return updated.error();
  if (Status refreshed = refresh_job_from_forwards(connection_, job_id); !refreshed) return refreshed;
  return transaction->commit();
}

Result<std::optional<Job>> Journal::find_job(std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  return load_job(connection_, job_id);
}

Result<std::vector<Job>> Journal::jobs_in_state(JobState state, int limit) {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_, sql_with("SELECT ", kJobColumns, " FROM jobs WHERE state = ? ORDER BY id LIMIT ?"),
                            to_string(state), limit < 0 ? -1 : limit);
  if (!statement) return statement.error();
  return read_jobs(*statement);
}

Result<std::vector<Job>> Journal::jobs_awaiting_catalogue(int limit) {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_,
                            sql_with("SELECT ", kJobColumns, " FROM jobs WHERE catalogue_pending = 1 AND state IN "
                                     "('written', 'forwarding', 'done', 'forward_failed', 'forward_unknown') "
                                     "ORDER BY id LIMIT ?"),
                            limit < 0 ? -1 : limit);
  if (!statement) return statement.error();
  return read_jobs(*statement);
}

Status Journal::mark_catalogued(const std::vector<std::int64_t>& job_ids) {
  if (job_ids.empty()) return {};
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  for (const std::int64_t job_id : job_ids) {
    auto marked = execute(connection_, "UPDATE jobs SET catalogue_pending = 0 WHERE id = ?", job_id);
    if (!marked) return marked.error();
  }
  return transaction->commit();
}

Result<std::vector<Forward>> Journal::forwards_of(std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  auto statement =
      prepared(connection_, sql_with("SELECT ", kForwardColumns, " FROM forwards WHERE job_id = ? ORDER BY id"), job_id);
  if (!statement) return statement.error();
  return read_forwards(*statement);
}

Result<StatusReport> Journal::report() {
  const std::lock_guard lock(mutex_);
  // One read transaction, so that the parts of the report agree with each other.
  auto transaction = sqlite::Transaction::begin(connection_, sqlite::TransactionKind::deferred);
  if (!transaction) return transaction.error();
  StatusReport report;

  {
    auto statement = prepared(connection_,
                              "SELECT gateway_id, state, count(*) FROM jobs GROUP BY gateway_id, state "
                              "ORDER BY gateway_id, state");
    if (!statement) return statement.error();
    while (true) {
      auto row = statement->step();
      if (!row) return row.error();
      if (!row.value()) break;
      report.counts.push_back({statement->column_text(0), statement->column_text(1), statement->column_int64(2)});
    }
  }
  {
    auto statement =
        prepared(connection_, sql_with("SELECT ", kJobColumns, " FROM jobs WHERE state = 'received' ORDER BY id LIMIT 1"));
    if (!statement) return statement.error();
    auto jobs = read_jobs(*statement);
    if (!jobs) return jobs.error();
    if (!jobs->empty()) report.oldest_waiting = std::move(jobs->front());
  }
  {
    auto statement = prepared(connection_,
                              sql_with("SELECT ", kJobColumns,
                                       " FROM jobs WHERE state = 'rejected' ORDER BY updated_at_ms DESC, id DESC LIMIT ?"),
                              kLastErrorsShown);
    if (!statement) return statement.error();
    auto jobs = read_jobs(*statement);
    if (!jobs) return jobs.error();
    report.last_errors = std::move(jobs).value();
  }
  {
    auto statement = prepared(connection_,
                              "SELECT destination, "
                              "sum(state = 'done'), sum(state = 'forward_failed'), sum(state = 'forward_unknown'), "
                              "sum(state IN ('waiting', 'forwarding')) "
                              "FROM forwards GROUP BY destination ORDER BY destination");
    if (!statement) return statement.error();
    while (true) {
      auto row = statement->step();
      if (!row) return row.error();
      if (!row.value()) break;
      DestinationCounts counts;
      counts.destination = statement->column_text(0);
      counts.sent = statement->column_int64(1);
      counts.failed = statement->column_int64(2);
      counts.unknown = statement->column_int64(3);
      counts.waiting = statement->column_int64(4);
      report.destinations.push_back(std::move(counts));
    }
  }
  for (DestinationCounts& counts : report.destinations) {
    // A failed forward waiting for its retry keeps its detail, so it counts as the destination's last error too.
    auto statement = prepared(connection_,
                              "SELECT phase, detail FROM forwards WHERE destination = ? AND detail <> '' AND "
                              "(state IN ('forward_failed', 'forward_unknown') OR (state = 'waiting' AND attempts > 0)) "
                              "ORDER BY updated_at_ms DESC, id DESC LIMIT 1",
                              counts.destination);
    if (!statement) return statement.error();
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) continue;
    const std::string phase = statement->column_text(0);
    counts.last_error = phase.empty() ? statement->column_text(1) : phase + ": " + statement->column_text(1);
  }
  return committed(*transaction, std::move(report));
}

Result<int> Journal::reprocess(const std::vector<std::int64_t>& job_ids) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status exist = check_all_exist(connection_, job_ids); !exist) return exist.error();

  int changed = 0;
  for (const std::int64_t id : job_ids) {
    auto state = state_of(connection_, id);
    if (!state) return state.error();
    switch (state.value()) {
      case JobState::rejected:
      case JobState::done:
      case JobState::written:
      case JobState::forward_failed:
      case JobState::forward_unknown:
        break;
      default:
        continue;  // waiting or in flight: nothing to redo
    }
    auto deleted = execute(connection_, "DELETE FROM forwards WHERE job_id = ?", id);
    if (!deleted) return deleted.error();
    auto updated = execute(connection_,
                           "UPDATE jobs SET state = 'received', attempts = 0, reason = 'reprocess', "
                           "detail = 'reprocess by operator', output_path = '', result_sop_instance_uid = '', "
                           "retry_at_ms = NULL, updated_at_ms = ? WHERE id = ?",
                           unix_time_ms(), id);
    if (!updated) return updated.error();
    ++changed;
  }
  auto result = committed(*transaction, changed);
  if (result && changed > 0) logger()->info("operator: {} job(s) queued for reprocessing", changed);
  return result;
}

Result<int> Journal::discard(const std::vector<std::int64_t>& job_ids) {
  return update_each_job(job_ids,
                         "UPDATE jobs SET state = 'rejected', reason = 'discarded', detail = 'discarded by operator', "
                         "updated_at_ms = ? WHERE id = ? AND (state = 'received' OR "
                         "(state = 'rejected' AND reason <> 'discarded'))",
                         "job(s) discarded", {});
}

Result<int> Journal::resend(const std::vector<std::int64_t>& job_ids) {
  return update_each_job(job_ids,
                         "UPDATE forwards SET state = 'waiting', detail = 'resend by operator', "
                         "next_attempt_at_ms = NULL, updated_at_ms = ? "
                         "WHERE job_id = ? AND state IN ('forward_failed', 'forward_unknown')",
                         "forward(s) queued again",
                         [this](std::int64_t id) { return refresh_job_from_forwards(connection_, id); });
}

Result<int> Journal::update_each_job(const std::vector<std::int64_t>& job_ids, std::string_view sql,
                                     std::string_view what, const std::function<Status(std::int64_t)>& after_each) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status exist = check_all_exist(connection_, job_ids); !exist) return exist.error();

  int changed = 0;
  for (const std::int64_t id : job_ids) {
    auto updated = execute(connection_, sql, unix_time_ms(), id);
    if (!updated) return updated.error();
    changed += updated.value();
    if (after_each) {
      if (Status done = after_each(id); !done) return done.error();
    }
  }
  auto result = committed(*transaction, changed);
  if (result && changed > 0) logger()->info("operator: {} {}", changed, what);
  return result;
}

Result<bool> Journal::has_job_for_input(const std::filesystem::path& input_path) {
  const std::lock_guard lock(mutex_);
  auto found = query_int(connection_, "SELECT id FROM jobs WHERE input_path = ? LIMIT 1", input_path.string());
  if (!found) return found.error();
  return found.value().has_value();
}

Result<std::int64_t> Journal::count_in_state(JobState state) {
  const std::lock_guard lock(mutex_);
  auto count = query_int(connection_, "SELECT count(*) FROM jobs WHERE state = ?", to_string(state));
  if (!count) return count.error();
  return count.value().value_or(0);
}

}  // namespace creni::journal
