// Journal: forwards of results to destinations (claim, outcome, resend) and the job state they imply.

#include "creni/journal/journal.hpp"

#include <utility>

#include "creni/common/clock.hpp"

#include "statements.hpp"

namespace creni::journal {

namespace detail {

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

}  // namespace detail

using namespace detail;

namespace {

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

}  // namespace

Result<std::optional<ForwardTask>> Journal::claim_forward(const std::string& destination) {
  auto claimed = claim_forwards(destination, 1);
  if (!claimed) return claimed.error();
  if (claimed->empty()) return std::optional<ForwardTask>{};
  return std::optional<ForwardTask>{std::move(claimed->front())};
}

Result<std::vector<ForwardTask>> Journal::claim_forwards(const std::string& destination, std::size_t limit) {
  return record_forward_outcomes_and_claim({}, destination, limit);
}

Status Journal::record_forward_outcome(std::int64_t task_id, const ForwardOutcome& outcome,
                                       std::optional<std::int64_t> retry_at_ms) {
  ForwardResult result;
  result.task_id = task_id;
  result.outcome = outcome;
  result.retry_at_ms = retry_at_ms;
  auto recorded = record_forward_outcomes_and_claim({result}, "", 0);
  if (!recorded) return recorded.error();
  return {};
}

Result<std::vector<ForwardTask>> Journal::record_forward_outcomes_and_claim(const std::vector<ForwardResult>& results,
                                                                           const std::string& destination,
                                                                           std::size_t limit) {
  const std::lock_guard lock(mutex_);
  for (const ForwardResult& result : results) {
    if (result.outcome.state == ForwardState::waiting || result.outcome.state == ForwardState::forwarding) {
      return make_error("invalid_transition", "a forward outcome must be done, forward_failed or forward_unknown, not " +
                                                  std::string(to_string(result.outcome.state)));
    }
  }
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  for (const ForwardResult& result : results) {
    if (Status recorded = record_forward_outcome_in_transaction(result); !recorded) return recorded.error();
  }
  auto claimed = claim_forwards_in_transaction(destination, limit);
  if (!claimed) return claimed.error();
  return committed(*transaction, std::move(claimed).value());
}

Result<std::vector<ForwardTask>> Journal::claim_forwards_in_transaction(const std::string& destination,
                                                                       std::size_t limit) {
  std::vector<ForwardTask> tasks;
  if (limit == 0) return tasks;
  const std::int64_t now = unix_time_ms();
  // As for jobs (claim_next_in_transaction): a retry time set by a clock that has since gone back is due now.
  auto statement = prepared(connection_,
                            "SELECT f.id, f.job_id, j.gateway_id, j.output_path, j.result_sop_instance_uid, f.attempts, "
                            "j.created_at_ms FROM forwards f JOIN jobs j ON j.id = f.job_id "
                            "WHERE f.destination = ? AND f.state = 'waiting' "
                            "AND (f.next_attempt_at_ms IS NULL OR f.next_attempt_at_ms <= ?2 OR f.updated_at_ms > ?2) "
                            "ORDER BY f.id LIMIT ?",
                            destination, now, static_cast<std::int64_t>(limit));
  if (!statement) return statement.error();
  while (true) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) break;
    ForwardTask task;
    task.id = statement->column_int64(0);
    task.job_id = statement->column_int64(1);
    task.gateway_id = statement->column_text(2);
    task.destination = destination;
    task.output_path = std::filesystem::path(statement->column_text(3));
    task.result_sop_instance_uid = statement->column_text(4);
    task.attempts = static_cast<int>(statement->column_int64(5)) + 1;
    task.job_created_at_ms = statement->column_int64(6);
    tasks.push_back(std::move(task));
  }
  statement->reset();
  for (const ForwardTask& task : tasks) {
    auto claimed = execute(connection_,
                           "UPDATE forwards SET state = 'forwarding', attempts = attempts + 1, "
                           "next_attempt_at_ms = NULL, updated_at_ms = ? WHERE id = ?",
                           now, task.id);
    if (!claimed) return claimed.error();
    if (Status refreshed = refresh_job_from_forwards(connection_, task.job_id); !refreshed) return refreshed.error();
  }
  return tasks;
}

Status Journal::record_forward_outcome_in_transaction(const ForwardResult& result) {
  const std::int64_t task_id = result.task_id;
  const ForwardOutcome& outcome = result.outcome;
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
  if (outcome.state == ForwardState::forward_failed && result.retry_at_ms) {
    next = ForwardState::waiting;
    next_attempt = result.retry_at_ms;
  }
  auto updated = execute(connection_,
                         "UPDATE forwards SET state = ?, phase = ?, detail = ?, dimse_status = ?, "
                         "next_attempt_at_ms = ?, updated_at_ms = ? WHERE id = ?",
                         to_string(next), outcome.phase, outcome.detail, outcome.dimse_status, next_attempt, unix_time_ms(),
                         task_id);
  if (!updated) return updated.error();
  return refresh_job_from_forwards(connection_, job_id);
}

Result<std::vector<Forward>> Journal::forwards_of(std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  auto statement =
      prepared(connection_, sql_with("SELECT ", kForwardColumns, " FROM forwards WHERE job_id = ? ORDER BY id"), job_id);
  if (!statement) return statement.error();
  return read_forwards(*statement);
}

Result<int> Journal::resend(const std::vector<std::int64_t>& job_ids) {
  return update_each_job(job_ids,
                         "UPDATE forwards SET state = 'waiting', detail = 'resend by operator', "
                         "next_attempt_at_ms = NULL, updated_at_ms = ? "
                         "WHERE job_id = ? AND state IN ('forward_failed', 'forward_unknown')",
                         "forward(s) queued again",
                         [this](std::int64_t id) { return refresh_job_from_forwards(connection_, id); });
}

}  // namespace creni::journal
