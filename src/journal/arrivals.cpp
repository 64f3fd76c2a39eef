// Journal: recording arrivals (new job, same file, duplicate, conflict, refused).

#include "creni/journal/journal.hpp"

#include <utility>

#include "statements.hpp"

namespace creni::journal {

using namespace detail;

Result<RecordedArrival> Journal::record_arrival(const NewArrival& arrival) {
  auto recorded = record_arrivals({arrival});
  if (!recorded) return recorded.error();
  return recorded->front();
}

Result<std::vector<RecordedArrival>> Journal::record_arrivals(const std::vector<NewArrival>& arrivals) {
  // Nothing is acknowledged into a journal that is no longer the file at its path: it would be lost.
  if (Status in_place = check_file_in_place(); !in_place) return in_place.error();
  const std::lock_guard lock(mutex_);
  return record_arrivals_locked(arrivals);
}

Result<std::vector<RecordedArrival>> Journal::record_arrivals_locked(const std::vector<NewArrival>& arrivals) {
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
                              "SELECT id, content_hash, canonical_hash FROM jobs WHERE gateway_id = ? "
                              "AND sop_instance_uid = ? AND state <> 'rejected' ORDER BY content_hash = ? DESC, id LIMIT 1",
                              arrival.gateway_id, arrival.sop_instance_uid, arrival.content_hash);
    if (!statement) return statement.error();
    auto row = statement->step();
    if (!row) return row.error();
    if (row.value()) {
      const std::int64_t existing = statement->column_int64(0);
      const std::string canonical = statement->column_text(2);
      // The same bytes, or the same content in another encoding (transfer syntax, meta header).
      const bool same_content = statement->column_text(1) == arrival.content_hash ||
                                (!arrival.canonical_hash.empty() && canonical == arrival.canonical_hash);
      statement->reset();  // done reading before anything is written
      if (same_content) return RecordedArrival{ArrivalOutcome::duplicate, existing};
      // A sender retrying a refused instance is told the same again, without a new row per retry.
      auto known = query_int(connection_,
                             "SELECT id FROM jobs WHERE gateway_id = ? AND sop_instance_uid = ? AND state = 'rejected' "
                             "AND reason = 'conflict' AND (content_hash = ? OR (canonical_hash <> '' AND canonical_hash = ?)) "
                             "ORDER BY id LIMIT 1",
                             arrival.gateway_id, arrival.sop_instance_uid, arrival.content_hash, arrival.canonical_hash);
      if (!known) return known.error();
      if (known.value()) return RecordedArrival{ArrivalOutcome::known_conflict, *known.value()};
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

Result<std::optional<Job>> Journal::find_instance(const std::string& gateway_id, const std::string& sop_instance_uid) {
  const std::lock_guard lock(mutex_);
  auto statement = prepared(connection_,
                            sql_with("SELECT ", kJobColumns,
                                     " FROM jobs WHERE gateway_id = ? AND sop_instance_uid = ? AND state <> 'rejected' "
                                     "ORDER BY id LIMIT 1"),
                            gateway_id, sop_instance_uid);
  if (!statement) return statement.error();
  auto jobs = read_jobs(*statement);
  if (!jobs) return jobs.error();
  if (jobs->empty()) return std::optional<Job>{};
  return std::optional<Job>{std::move(jobs->front())};
}

Status Journal::set_canonical_hash(std::int64_t job_id, const std::string& canonical_hash) {
  const std::lock_guard lock(mutex_);
  auto updated = execute(connection_, "UPDATE jobs SET canonical_hash = ? WHERE id = ?", canonical_hash, job_id);
  if (!updated) return updated.error();
  if (updated.value() == 0) return job_not_found(job_id);
  return {};
}

Status Journal::set_input_path(std::int64_t job_id, const std::filesystem::path& input_path) {
  const std::lock_guard lock(mutex_);
  auto updated = execute(connection_, "UPDATE jobs SET input_path = ? WHERE id = ?", input_path.string(), job_id);
  if (!updated) return updated.error();
  if (updated.value() == 0) return job_not_found(job_id);
  return {};
}

Result<bool> Journal::has_job_for_input(const std::filesystem::path& input_path) {
  const std::lock_guard lock(mutex_);
  auto found = query_int(connection_, "SELECT id FROM jobs WHERE input_path = ? LIMIT 1", input_path.string());
  if (!found) return found.error();
  return found.value().has_value();
}

}  // namespace creni::journal
