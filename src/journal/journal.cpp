// Journal: crash recovery at start and the operators' status report (both span jobs and forwards).

#include "creni/journal/journal.hpp"

#include <utility>
#include <vector>

#include "creni/common/clock.hpp"

#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {

constexpr int kLastErrorsShown = 10;

}  // namespace

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

}  // namespace creni::journal
