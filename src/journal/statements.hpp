#pragma once

// The journal's private statement layer: binding, running and reading rows, shared by the files that implement
// Journal (schema, arrivals, jobs, forwards). Not part of the public API.

#include <spdlog/logger.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/journal/journal.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"

namespace creni::journal::detail {

/// The module's named logger (spdlog "journal"), or the default one when it is not registered.
std::shared_ptr<spdlog::logger> logger();

inline constexpr std::string_view kJobColumns =
    "id, gateway_id, source, input_path, sop_instance_uid, content_hash, state, attempts, reason, detail, "
    "output_path, result_sop_instance_uid, created_at_ms, updated_at_ms";

inline constexpr std::string_view kForwardColumns =
    "id, job_id, destination, state, attempts, phase, detail, dimse_status, next_attempt_at_ms, updated_at_ms";

/// `before` + `columns` + `after`.
std::string sql_with(std::string_view before, std::string_view columns, std::string_view after);

// Parameter binding for the handful of types the journal stores.
inline Status bind_value(sqlite::Statement& statement, int index, std::int64_t value) {
  return statement.bind(index, value);
}
inline Status bind_value(sqlite::Statement& statement, int index, int value) { return statement.bind(index, value); }
inline Status bind_value(sqlite::Statement& statement, int index, std::string_view value) {
  return statement.bind(index, value);
}
inline Status bind_value(sqlite::Statement& statement, int index, const std::string& value) {
  return statement.bind(index, value);
}
inline Status bind_value(sqlite::Statement& statement, int index, const std::optional<std::int64_t>& value) {
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

template <typename T>
Result<T> committed(sqlite::Transaction& transaction, T value) {
  if (Status done = transaction.commit(); !done) return done.error();
  return value;
}

/// One `jobs` row selected with kJobColumns.
Job read_job(const sqlite::Statement& row);
/// Every remaining row of a statement selecting kJobColumns.
Result<std::vector<Job>> read_jobs(sqlite::Statement& statement);
/// The job, or nullopt when there is none with this id.
Result<std::optional<Job>> load_job(sqlite::Connection& db, std::int64_t job_id);
/// Inserts a job for `arrival` in `state`; returns its id.
Result<std::int64_t> insert_job(sqlite::Connection& db, const NewArrival& arrival, JobState state,
                                const std::string& reason, const std::string& detail);
Error job_not_found(std::int64_t job_id);
/// The current state of a job: "not_found" when it does not exist.
Result<JobState> state_of(sqlite::Connection& db, std::int64_t job_id);
/// Checks that `job_id` exists and is in one of `from`, for a change to `to`.
Status check_transition(sqlite::Connection& db, std::int64_t job_id, std::initializer_list<JobState> from,
                        JobState to);
Status set_state(sqlite::Connection& db, std::int64_t job_id, JobState state, const std::string& reason,
                 const std::string& detail);
/// Every id must name a job: an operator's typo must not half-apply a command.
Status check_all_exist(sqlite::Connection& db, const std::vector<std::int64_t>& job_ids);

/// A job with forwards takes its state from them (see Journal::mark_written). Defined in forwards.cpp.
Status refresh_job_from_forwards(sqlite::Connection& db, std::int64_t job_id);

}  // namespace creni::journal::detail
