#include <algorithm>
#include <chrono>

#include "creni/common/clock.hpp"
#include "creni/journal/retention_queries.hpp"
#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"
#include "retention_schema.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {


constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);

// Finished states in which a result exists and none of its forwards is on the wire.
constexpr std::string_view kDelivered =
    "state IN ('written', 'done') AND NOT EXISTS (SELECT 1 FROM forwards f WHERE f.job_id = jobs.id AND "
    "f.state != 'done')";
constexpr std::string_view kAnyFinished =
    "state IN ('written', 'done', 'forwarding', 'forward_failed', 'forward_unknown') AND NOT EXISTS (SELECT 1 FROM "
    "forwards f WHERE f.job_id = jobs.id AND f.state = 'forwarding')";

constexpr std::string_view kCandidateColumns =
    "id, gateway_id, source, input_path, output_path, sop_instance_uid, result_sop_instance_uid, created_at_ms, "
    "updated_at_ms";

std::string_view protection(bool include_unforwarded) { return include_unforwarded ? kAnyFinished : kDelivered; }

// Every row of `statement`, each read by `read`.
template <typename Row, typename Read>
Result<std::vector<Row>> all_rows(sqlite::Statement& statement, Read read) {
  std::vector<Row> rows;
  while (true) {
    auto row = statement.step();
    if (!row) return row.error();
    if (!row.value()) return rows;
    rows.push_back(read(statement));
  }
}

SweepCandidate read_candidate(const sqlite::Statement& row) {
  SweepCandidate candidate;
  candidate.job_id = row.column_int64(0);
  candidate.gateway_id = row.column_text(1);
  candidate.source = parse_source(row.column_text(2));
  candidate.input_path = row.column_text(3);
  candidate.output_path = row.column_text(4);
  candidate.sop_instance_uid = row.column_text(5);
  candidate.result_sop_instance_uid = row.column_text(6);
  candidate.created_at_ms = row.column_int64(7);
  candidate.finished_at_ms = row.column_int64(8);
  return candidate;
}

template <typename... Args>
Result<std::vector<SweepCandidate>> candidates(sqlite::Connection& db, const std::string& where, const Args&... args) {
  auto statement = prepared(db, "SELECT " + std::string(kCandidateColumns) + " FROM jobs WHERE " + where, args...);
  if (!statement) return statement.error();
  return all_rows<SweepCandidate>(*statement, read_candidate);
}

}  // namespace

Result<std::unique_ptr<RetentionQueries>> RetentionQueries::open(const std::filesystem::path& journal_file) {
  auto connection = sqlite::Connection::open(journal_file, sqlite::OpenMode::read_write_create, kBusyTimeout);
  if (!connection) return connection.error();
  if (Status wal = connection->enable_durable_wal(); !wal) return wal.error();
  auto version = connection->user_version();
  if (!version) return version.error();
  if (version.value() < retention_schema::kVersion) {
    return make_error("unsupported_schema", journal_file.string() + " has no retention column (schema version " +
                                                std::to_string(version.value()) + "): open it with Journal::open first");
  }
  return std::unique_ptr<RetentionQueries>(new RetentionQueries(std::move(connection).value()));
}

RetentionQueries::RetentionQueries(sqlite::Connection connection) : connection_(std::move(connection)) {}
RetentionQueries::~RetentionQueries() = default;

Result<std::vector<SweepCandidate>> RetentionQueries::results_to_sweep(const std::string& gateway_id,
                                                                       bool include_unforwarded,
                                                                       std::int64_t after_job_id, int limit) {
  const std::lock_guard lock(mutex_);
  // The first two terms match the partial index jobs_to_sweep, so listing never walks the swept history.
  return candidates(connection_,
                    "gateway_id = ? AND retention_state != 'swept' AND retention_state = 'kept' AND id > ? AND "
                    "output_path != '' AND catalogue_pending = 0 AND " +
                        std::string(protection(include_unforwarded)) + " ORDER BY id LIMIT ?",
                    gateway_id, after_job_id, limit);
}

Result<std::int64_t> RetentionQueries::count_undelivered(const std::string& gateway_id, std::int64_t cutoff_ms) {
  const std::lock_guard lock(mutex_);
  auto counted = query_int(connection_,
                           "SELECT count(*) FROM jobs WHERE gateway_id = ? AND retention_state != 'swept' AND "
                           "retention_state = 'kept' AND output_path != '' AND updated_at_ms < ? AND state NOT IN "
                           "('received', 'processing', 'rejected') AND NOT (" + std::string(kDelivered) + ")",
                           gateway_id, cutoff_ms);
  if (!counted) return counted.error();
  return counted->value_or(0);
}

Result<std::vector<std::int64_t>> RetentionQueries::begin_sweep(const std::vector<std::int64_t>& job_ids,
                                                                bool include_unforwarded) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  const std::int64_t now = unix_time_ms();
  std::vector<std::int64_t> marked;
  for (const std::int64_t id : job_ids) {
    auto changed = execute(connection_,
                           "UPDATE jobs SET retention_state = 'sweeping' WHERE id = ? AND retention_state = 'kept' AND " +
                               std::string(protection(include_unforwarded)),
                           id);
    if (!changed) return changed.error();
    if (changed.value() == 0) continue;
    marked.push_back(id);
    if (!include_unforwarded) continue;
    auto failed = execute(connection_,
                      "UPDATE forwards SET state = 'forward_failed', phase = 'retention', detail = 'result removed by "
                      "retention before it was sent', next_attempt_at_ms = NULL, updated_at_ms = ? WHERE job_id = ? "
                      "AND state = 'waiting'",
                      now, id);
    if (!failed) return failed.error();
    if (failed.value() == 0) continue;
    // The job's state follows its forwards, as Journal::record_forward_outcome keeps it.
    auto followed = execute(connection_,
                        "UPDATE jobs SET state = CASE WHEN EXISTS (SELECT 1 FROM forwards WHERE job_id = ?1 AND state "
                        "= 'forward_unknown') THEN 'forward_unknown' ELSE 'forward_failed' END, updated_at_ms = ?2 "
                        "WHERE id = ?1",
                        id, now);
    if (!followed) return followed.error();
  }
  if (Status committed = transaction->commit(); !committed) return committed.error();
  return marked;
}

Result<std::vector<SweepCandidate>> RetentionQueries::interrupted_sweeps(int limit) {
  const std::lock_guard lock(mutex_);
  return candidates(connection_, "retention_state = 'sweeping' ORDER BY id LIMIT ?", limit);
}

Status RetentionQueries::finish_sweep(const std::vector<std::int64_t>& job_ids) {
  if (job_ids.empty()) return {};  // no write transaction (and no fsync) for nothing
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  for (const std::int64_t id : job_ids) {
    auto changed = execute(connection_, "UPDATE jobs SET retention_state = 'swept' WHERE id = ? AND retention_state = 'sweeping'", id);
    if (!changed) return changed.error();
  }
  return transaction->commit();
}

Result<std::vector<PrunableJob>> RetentionQueries::jobs_to_prune(std::int64_t cutoff_ms, std::int64_t after_updated_ms,
                                                                 std::int64_t after_job_id, int limit) {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_,
                           "SELECT id, gateway_id, state, input_path, updated_at_ms FROM jobs WHERE updated_at_ms < ? "
                           "AND (updated_at_ms, id) > (?, ?) AND state IN ('written', 'done', 'rejected', "
                           "'forward_failed', 'forward_unknown') AND (output_path = '' OR retention_state = 'swept') "
                           "ORDER BY updated_at_ms, id LIMIT ?",
                           cutoff_ms, after_updated_ms, after_job_id, limit);
  if (!statement) return statement.error();
  return all_rows<PrunableJob>(*statement, [](const sqlite::Statement& row) {
    PrunableJob job;
    job.job_id = row.column_int64(0);
    job.gateway_id = row.column_text(1);
    job.state = parse_job_state(row.column_text(2)).value_or(JobState::rejected);
    job.input_path = row.column_text(3);
    job.updated_at_ms = row.column_int64(4);
    return job;
  });
}

Result<int> RetentionQueries::delete_jobs(const std::vector<std::int64_t>& job_ids) {
  if (job_ids.empty()) return 0;
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  int deleted = 0;
  for (const std::int64_t id : job_ids) {
    // Forwards first: they reference their job.
    if (auto forwards = execute(connection_, "DELETE FROM forwards WHERE job_id = ?", id); !forwards) {
      return forwards.error();
    }
    auto job = execute(connection_, "DELETE FROM jobs WHERE id = ?", id);
    if (!job) return job.error();
    deleted += job.value();
  }
  if (Status committed = transaction->commit(); !committed) return committed.error();
  return deleted;
}

Result<std::int64_t> RetentionQueries::reclaim_space(int max_pages) {
  const std::lock_guard lock(mutex_);
  auto free_pages = query_int(connection_, "PRAGMA freelist_count");
  if (!free_pages) return free_pages.error();
  const std::int64_t before = free_pages->value_or(0);
  if (before == 0) return std::int64_t{0};
  // incremental_vacuum returns no rows of interest; stepping it to the end frees the pages.
  auto vacuum = prepared(connection_, "PRAGMA incremental_vacuum(" + std::to_string(std::max(1, max_pages)) + ")");
  if (!vacuum) return vacuum.error();
  while (true) {
    auto step = vacuum->step();
    if (!step) return step.error();
    if (!step.value()) break;
  }
  return std::min<std::int64_t>(before, max_pages);
}

Result<std::int64_t> RetentionQueries::checkpoint() {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_, "PRAGMA wal_checkpoint(PASSIVE)");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return row.value() ? statement->column_int64(2) : std::int64_t{0};  // busy, frames in the log, frames copied
}

Result<JournalRows> RetentionQueries::rows() {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_, "SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM forwards)");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return JournalRows{statement->column_int64(0), statement->column_int64(1)};
}

}  // namespace creni::journal
