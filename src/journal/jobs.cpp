// Journal: the life of a job (claim, requeue, reject, written, catalogue) and the operator commands on jobs.

#include "creni/journal/journal.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <string_view>
#include <utility>

#include "creni/common/clock.hpp"

#include "statements.hpp"

namespace creni::journal {

using namespace detail;

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
  // Fairness (issue 13): fresh work first, a retry (attempts > 0, after a crash or a timeout) only when no fresh
  // job is due, so one poison input costs one worker per attempt instead of holding the head of the queue; and
  // among the gateways with due work, the one served least recently goes first (round robin).
  constexpr std::string_view kHeads =
      "SELECT gateway_id, min(id) FROM jobs WHERE state = 'received' "
      "AND (retry_at_ms IS NULL OR retry_at_ms <= ?1 OR updated_at_ms > ?1) AND (attempts > 0) = ?2 "
      "GROUP BY gateway_id";
  const std::string by_id = sql_with("SELECT ", kJobColumns, " FROM jobs WHERE id = ?");

  while (true) {
    const std::int64_t now = unix_time_ms();
    std::optional<std::int64_t> chosen;
    for (const int retries : {0, 1}) {
      auto heads = prepared(connection_, kHeads, now, retries);
      if (!heads) return heads.error();
      std::optional<std::pair<std::uint64_t, std::int64_t>> best;  // (last claim of the gateway, its oldest job)
      while (true) {
        auto stepped = heads->step();
        if (!stepped) return stepped.error();
        if (!stepped.value()) break;
        const auto served = last_claimed_.find(heads->column_text(0));
        const std::pair<std::uint64_t, std::int64_t> candidate{
            served == last_claimed_.end() ? 0 : served->second, heads->column_int64(1)};
        if (!best || candidate < *best) best = candidate;
      }
      if (best) chosen = best->second;
      if (chosen) break;
    }
    if (!chosen) return std::optional<Job>{};
    auto statement = prepared(connection_, by_id, *chosen);
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
    last_claimed_[job.gateway_id] = ++claims_;
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
                             const std::filesystem::path& relocated_input, const SeriesMember* series_member) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status written = mark_written_in_transaction(job_id, output, result_sop_instance_uid, destinations, relocated_input,
                                                   series_member);
      !written) {
    return written;
  }
  return transaction->commit();
}

Result<std::optional<Job>> Journal::mark_written_and_claim_next(std::int64_t job_id, const std::filesystem::path& output,
                                                                const std::string& result_sop_instance_uid,
                                                                const std::vector<std::string>& destinations,
                                                                const std::filesystem::path& relocated_input,
                                                                int max_attempts, const SeriesMember* series_member) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status written = mark_written_in_transaction(job_id, output, result_sop_instance_uid, destinations, relocated_input,
                                                   series_member);
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
                                            const std::filesystem::path& relocated_input,
                                            const SeriesMember* series_member) {
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
  if (series_member != nullptr) return add_to_series(job_id, *series_member);
  return {};
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

Result<std::int64_t> Journal::count_in_state(JobState state) {
  const std::lock_guard lock(mutex_);
  auto count = query_int(connection_, "SELECT count(*) FROM jobs WHERE state = ?", to_string(state));
  if (!count) return count.error();
  return count.value().value_or(0);
}

}  // namespace creni::journal
