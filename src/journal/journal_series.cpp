// The journal's series: runs of a gateway's series, the instances in each, and the state of their series jobs.
// Instances join when their job is recorded `written` (the node learns an instance's series only from the worker
// that parsed it: the SCP never parses data sets), in the same transaction as the result.
#include <spdlog/spdlog.h>

#include <array>
#include <utility>

#include "creni/common/clock.hpp"
#include "creni/journal/journal.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {

constexpr std::array<std::pair<SeriesState, std::string_view>, 5> kSeriesStates{{{SeriesState::open, "open"},
                                                                                 {SeriesState::complete, "complete"},
                                                                                 {SeriesState::reporting, "reporting"},
                                                                                 {SeriesState::reported, "reported"},
                                                                                 {SeriesState::failed, "failed"}}};

constexpr std::string_view kSeriesColumns =
    "s.id, s.gateway_id, s.study_instance_uid, s.series_instance_uid, s.run, s.state, s.received, s.expected, "
    "s.first_arrival_ms, s.last_arrival_ms, s.last_association, s.completed_by, s.completed_at_ms, s.attempts, "
    "s.result_job_id, s.result_path, s.summary, s.reason, s.header, s.updated_at_ms, "
    "EXISTS (SELECT 1 FROM associations_ended e WHERE e.association = s.last_association AND s.last_association <> ''), "
    "(SELECT COUNT(*) FROM jobs j WHERE s.last_association <> '' AND j.association = s.last_association "
    "AND j.state IN ('received', 'processing'))";

SeriesRecord read_series(const sqlite::Statement& row) {
  SeriesRecord s;
  s.id = row.column_int64(0);
  s.gateway_id = row.column_text(1);
  s.study_instance_uid = row.column_text(2);
  s.series_instance_uid = row.column_text(3);
  s.run = static_cast<int>(row.column_int64(4));
  s.state = parse_series_state(row.column_text(5)).value_or(SeriesState::failed);
  s.received = row.column_int64(6);
  s.expected = row.column_int64(7);
  s.first_arrival_ms = row.column_int64(8);
  s.last_arrival_ms = row.column_int64(9);
  s.last_association = row.column_text(10);
  s.completed_by = row.column_text(11);
  s.completed_at_ms = row.column_int64(12);
  s.attempts = static_cast<int>(row.column_int64(13));
  s.result_job_id = row.column_int64(14);
  s.result_path = row.column_text(15);
  s.summary = row.column_text(16);
  s.reason = row.column_text(17);
  s.header = row.column_text(18);
  s.updated_at_ms = row.column_int64(19);
  s.association_ended = row.column_int64(20) != 0;
  s.association_pending = row.column_int64(21);
  return s;
}

template <typename... Args>
Result<std::vector<SeriesRecord>> select_series(sqlite::Connection& db, std::string_view where, const Args&... args) {
  auto statement = prepared(db, sql_with("SELECT ", kSeriesColumns, std::string(" FROM series s ") + std::string(where)),
                            args...);
  if (!statement) return statement.error();
  std::vector<SeriesRecord> found;
  while (true) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) return found;
    found.push_back(read_series(*statement));
  }
}

Result<std::vector<SeriesInstance>> instances_of(sqlite::Connection& db, std::int64_t series_id) {
  auto statement = prepared(db,
                            "SELECT m.job_id, m.sop_class_uid, m.sop_instance_uid, m.result_sop_instance_uid, "
                            "m.instance_number, m.image_position, m.image_orientation, m.rows, m.columns, "
                            "m.pixel_spacing, j.input_path, j.output_path FROM series_members m "
                            "JOIN jobs j ON j.id = m.job_id WHERE m.series_id = ? ORDER BY m.rowid",
                            series_id);
  if (!statement) return statement.error();
  std::vector<SeriesInstance> instances;
  while (true) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) return instances;
    SeriesInstance i;
    i.job_id = statement->column_int64(0);
    i.sop_class_uid = statement->column_text(1);
    i.sop_instance_uid = statement->column_text(2);
    i.result_sop_instance_uid = statement->column_text(3);
    i.instance_number = statement->column_text(4);
    i.image_position = statement->column_text(5);
    i.image_orientation = statement->column_text(6);
    i.rows = statement->column_text(7);
    i.columns = statement->column_text(8);
    i.pixel_spacing = statement->column_text(9);
    i.input_path = statement->column_text(10);
    i.output_path = statement->column_text(11);
    instances.push_back(std::move(i));
  }
}

Error series_not_found(std::int64_t series_id) {
  return make_error("not_found", "no series run " + std::to_string(series_id));
}

// Checks that the run exists and is in `from`.
Status check_series_state(sqlite::Connection& db, std::int64_t series_id, SeriesState from, SeriesState to) {
  auto statement = prepared(db, "SELECT state FROM series WHERE id = ?", series_id);
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return series_not_found(series_id);
  const std::string state = statement->column_text(0);
  if (state != to_string(from)) {
    return make_error("invalid_transition", "series run " + std::to_string(series_id) + " is " + state +
                                                ", cannot become " + std::string(to_string(to)));
  }
  return {};
}

}  // namespace

std::string_view to_string(SeriesState state) {
  for (const auto& [value, name] : kSeriesStates) {
    if (value == state) return name;
  }
  return "failed";
}

std::optional<SeriesState> parse_series_state(std::string_view text) {
  for (const auto& [value, name] : kSeriesStates) {
    if (name == text) return value;
  }
  return std::nullopt;
}

Status Journal::add_to_series(std::int64_t job_id, const SeriesMember& member) {
  if (member.series_instance_uid.empty()) return {};
  auto job = prepared(connection_, "SELECT gateway_id, association FROM jobs WHERE id = ?", job_id);
  if (!job) return job.error();
  auto job_row = job->step();
  if (!job_row) return job_row.error();
  if (!job_row.value()) return make_error("not_found", "no job " + std::to_string(job_id));
  const std::string gateway_id = job->column_text(0);
  const std::string association = job->column_text(1);
  job->reset();

  // A job written again (reprocessed) is already in a run of its series: not a new instance, not a late one.
  auto known = query_int(connection_,
                         "SELECT 1 FROM series_members m JOIN series s ON s.id = m.series_id WHERE m.job_id = ? "
                         "AND s.gateway_id = ? AND s.series_instance_uid = ?",
                         job_id, gateway_id, member.series_instance_uid);
  if (!known) return known.error();
  if (known.value()) return {};

  const std::int64_t now = unix_time_ms();
  auto latest = select_series(connection_, "WHERE s.gateway_id = ? AND s.series_instance_uid = ? ORDER BY s.run DESC LIMIT 1",
                              gateway_id, member.series_instance_uid);
  if (!latest) return latest.error();
  std::int64_t series_id = 0;
  // A run that is complete but whose series job has not started yet simply takes the instance.
  if (!latest->empty() && (latest->front().state == SeriesState::open || latest->front().state == SeriesState::complete)) {
    series_id = latest->front().id;
  } else {
    const int run = latest->empty() ? 1 : latest->front().run + 1;
    auto inserted = execute(connection_,
                            "INSERT INTO series(gateway_id, study_instance_uid, series_instance_uid, run, state, "
                            "first_arrival_ms, last_arrival_ms, header, updated_at_ms) VALUES (?, ?, ?, ?, 'open', ?, ?, ?, ?)",
                            gateway_id, member.study_instance_uid, member.series_instance_uid, run, now, now,
                            member.header, now);
    if (!inserted) return inserted.error();
    series_id = connection_.last_insert_rowid();
    if (run > 1) {
      const bool reopen = member.late == LateArrival::reopen;
      logger()->info("gw={} job={} sop={} late for series {} (run {} was {}): run {} ({})", gateway_id, job_id,
                     member.sop_instance_uid, member.series_instance_uid, run - 1,
                     to_string(latest->front().state), run, reopen ? "reopen" : "separate");
      if (reopen) {
        // Everything received so far, once per job, in the order it first arrived.
        auto copied = execute(connection_,
                              "INSERT INTO series_members(series_id, job_id, sop_class_uid, sop_instance_uid, "
                              "result_sop_instance_uid, instance_number, image_position, image_orientation, rows, "
                              "columns, pixel_spacing) SELECT ?, m.job_id, m.sop_class_uid, m.sop_instance_uid, "
                              "m.result_sop_instance_uid, m.instance_number, m.image_position, m.image_orientation, "
                              "m.rows, m.columns, m.pixel_spacing FROM series_members m JOIN series s ON s.id = m.series_id "
                              "WHERE s.gateway_id = ? AND s.series_instance_uid = ? AND s.id <> ? "
                              "GROUP BY m.job_id ORDER BY MIN(m.rowid)",
                              series_id, gateway_id, member.series_instance_uid, series_id);
        if (!copied) return copied.error();
        auto counted = execute(connection_,
                               "UPDATE series SET received = (SELECT COUNT(*) FROM series_members WHERE series_id = ?), "
                               "expected = (SELECT MAX(expected) FROM series WHERE gateway_id = ? AND series_instance_uid = ?) "
                               "WHERE id = ?",
                               series_id, gateway_id, member.series_instance_uid, series_id);
        if (!counted) return counted.error();
      }
    }
  }

  auto added = execute(connection_,
                       "INSERT INTO series_members(series_id, job_id, sop_class_uid, sop_instance_uid, "
                       "result_sop_instance_uid, instance_number, image_position, image_orientation, rows, columns, "
                       "pixel_spacing) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       series_id, job_id, member.sop_class_uid, member.sop_instance_uid, member.result_sop_instance_uid,
                       member.instance_number, member.image_position, member.image_orientation, member.rows,
                       member.columns, member.pixel_spacing);
  if (!added) return added.error();
  auto updated = execute(connection_,
                         "UPDATE series SET received = received + 1, last_arrival_ms = ?, last_association = ?, "
                         "expected = MAX(expected, ?), header = CASE WHEN header = '' THEN ? ELSE header END, "
                         "updated_at_ms = ? WHERE id = ?",
                         now, association, member.expected, member.header, now, series_id);
  if (!updated) return updated.error();
  return {};
}

Result<int> Journal::recover_series() {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto requeued = execute(connection_,
                          "UPDATE series SET state = 'complete', reason = 'interrupted', updated_at_ms = ? "
                          "WHERE state = 'reporting'",
                          unix_time_ms());
  if (!requeued) return requeued.error();
  return committed(*transaction, requeued.value());
}

Status Journal::record_association_ended(const std::string& association, std::int64_t ended_at_ms) {
  if (association.empty()) return {};
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto inserted = execute(connection_, "INSERT OR IGNORE INTO associations_ended(association, ended_at_ms) VALUES (?, ?)",
                          association, ended_at_ms);
  if (!inserted) return inserted.error();
  return transaction->commit();
}

Result<std::vector<SeriesRecord>> Journal::open_series() {
  const std::lock_guard lock(mutex_);
  return select_series(connection_, "WHERE s.state = 'open' ORDER BY s.id");
}

Status Journal::complete_series(std::int64_t series_id, const std::string& completed_by) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status allowed = check_series_state(connection_, series_id, SeriesState::open, SeriesState::complete); !allowed) {
    return allowed;
  }
  const std::int64_t now = unix_time_ms();
  auto updated = execute(connection_,
                         "UPDATE series SET state = 'complete', completed_by = ?, completed_at_ms = ?, updated_at_ms = ? "
                         "WHERE id = ?",
                         completed_by, now, now, series_id);
  if (!updated) return updated.error();
  return transaction->commit();
}

Result<std::optional<SeriesRun>> Journal::claim_series(int max_attempts) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  const int limit = std::max(1, max_attempts);
  while (true) {
    auto next = select_series(connection_, "WHERE s.state = 'complete' ORDER BY s.completed_at_ms, s.id LIMIT 1");
    if (!next) return next.error();
    if (next->empty()) return committed(*transaction, std::optional<SeriesRun>{});
    SeriesRun run{std::move(next->front()), {}};
    const std::int64_t now = unix_time_ms();
    if (run.series.attempts >= limit) {
      // Like a poison image: a series job that failed this often would otherwise run forever.
      auto failed = execute(connection_,
                            "UPDATE series SET state = 'failed', reason = 'poison', updated_at_ms = ? WHERE id = ?", now,
                            run.series.id);
      if (!failed) return failed.error();
      logger()->warn("gw={} series={} run {} failed {} times: {}", run.series.gateway_id,
                     run.series.series_instance_uid, run.series.run, run.series.attempts, run.series.summary);
      continue;
    }
    auto claimed = execute(connection_,
                           "UPDATE series SET state = 'reporting', attempts = attempts + 1, updated_at_ms = ? WHERE id = ?",
                           now, run.series.id);
    if (!claimed) return claimed.error();
    run.series.state = SeriesState::reporting;
    run.series.attempts += 1;
    auto instances = instances_of(connection_, run.series.id);
    if (!instances) return instances.error();
    run.instances = std::move(instances).value();
    return committed(*transaction, std::optional<SeriesRun>{std::move(run)});
  }
}

Result<std::int64_t> Journal::record_series_report(std::int64_t series_id, const SeriesReport& report,
                                                   const std::vector<std::string>& destinations) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  if (Status allowed = check_series_state(connection_, series_id, SeriesState::reporting, SeriesState::reported);
      !allowed) {
    return allowed.error();
  }
  auto gateway = prepared(connection_, "SELECT gateway_id FROM series WHERE id = ?", series_id);
  if (!gateway) return gateway.error();
  if (auto row = gateway->step(); !row || !row.value()) return row ? series_not_found(series_id) : row.error();
  const std::string gateway_id = gateway->column_text(0);
  gateway->reset();

  // The report is a result like any other: a job of its gateway, written, its forwards in the same ledger (one
  // attempt each, recorded before it is made). Its own file is its input: it was made here, not received.
  const std::int64_t now = unix_time_ms();
  auto inserted = execute(connection_,
                          "INSERT INTO jobs(gateway_id, source, input_path, sop_instance_uid, content_hash, state, "
                          "attempts, created_at_ms, updated_at_ms) VALUES (?, 'folder', ?, ?, '', 'processing', 1, ?, ?)",
                          gateway_id, report.output.string(), report.sop_instance_uid, now, now);
  if (!inserted) return inserted.error();
  const std::int64_t job_id = connection_.last_insert_rowid();
  if (Status written = mark_written_in_transaction(job_id, report.output, report.sop_instance_uid, destinations, {}, nullptr);
      !written) {
    return written.error();
  }
  // The report has no image.db row to wait for; its detail tells operators what the job is.
  auto indexed = execute(connection_, "UPDATE jobs SET catalogue_pending = 0, detail = ? WHERE id = ?",
                         "series report of series run " + std::to_string(series_id), job_id);
  if (!indexed) return indexed.error();
  auto reported = execute(connection_,
                          "UPDATE series SET state = 'reported', result_job_id = ?, result_path = ?, summary = ?, "
                          "reason = '', updated_at_ms = ? WHERE id = ?",
                          job_id, report.output.string(), report.summary, now, series_id);
  if (!reported) return reported.error();
  return committed(*transaction, job_id);
}

Status Journal::record_series_failure(std::int64_t series_id, const std::string& reason, const std::string& detail,
                                      bool final) {
  const std::lock_guard lock(mutex_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  const SeriesState to = final ? SeriesState::failed : SeriesState::complete;
  if (Status allowed = check_series_state(connection_, series_id, SeriesState::reporting, to); !allowed) return allowed;
  auto updated = execute(connection_, "UPDATE series SET state = ?, reason = ?, summary = ?, updated_at_ms = ? WHERE id = ?",
                         to_string(to), reason, detail, unix_time_ms(), series_id);
  if (!updated) return updated.error();
  return transaction->commit();
}

Result<std::optional<SeriesRecord>> Journal::find_series(std::int64_t series_id) {
  const std::lock_guard lock(mutex_);
  auto found = select_series(connection_, "WHERE s.id = ?", series_id);
  if (!found) return found.error();
  if (found->empty()) return std::optional<SeriesRecord>{};
  return std::optional<SeriesRecord>{std::move(found->front())};
}

Result<std::vector<SeriesRecord>> Journal::series_overview(int limit) {
  const std::lock_guard lock(mutex_);
  auto open = select_series(connection_, "WHERE s.state IN ('open', 'complete', 'reporting') ORDER BY s.id");
  if (!open) return open.error();
  auto others = select_series(connection_, "WHERE s.state IN ('reported', 'failed') ORDER BY s.updated_at_ms DESC, s.id DESC LIMIT ?",
                              static_cast<std::int64_t>(limit));
  if (!others) return others.error();
  open->insert(open->end(), others->begin(), others->end());
  return open;
}

}  // namespace creni::journal
