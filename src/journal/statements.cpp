#include "statements.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "creni/common/clock.hpp"

namespace creni::journal::detail {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("journal");
  return named ? named : spdlog::default_logger();
}

std::string sql_with(std::string_view before, std::string_view columns, std::string_view after) {
  std::string sql(before);
  sql += columns;
  sql += after;
  return sql;
}

Job read_job(const sqlite::Statement& row) {
  Job job;
  job.id = row.column_int64(0);
  job.gateway_id = row.column_text(1);
  job.source = parse_source(row.column_text(2));
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
  job.canonical_hash = row.column_text(14);
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
                          "reason, detail, created_at_ms, updated_at_ms, canonical_hash, association) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          arrival.gateway_id, to_string(arrival.source), arrival.input_path.string(),
                          arrival.sop_instance_uid, arrival.content_hash, to_string(state), reason, detail, now, now,
                          arrival.canonical_hash, arrival.association);
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

Status check_all_exist(sqlite::Connection& db, const std::vector<std::int64_t>& job_ids) {
  for (const std::int64_t id : job_ids) {
    auto state = state_of(db, id);
    if (!state) return state.error();
  }
  return {};
}

}  // namespace creni::journal::detail
