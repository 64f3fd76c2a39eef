#include "creni/journal/journal_reader.hpp"

#include <algorithm>
#include <functional>
#include <map>

namespace creni::journal {

namespace {

// An observer waits briefly at most: a scrape or a page refresh is better answered late than never, but it must
// not queue up behind a long write.
constexpr auto kReaderBusyTimeout = std::chrono::milliseconds(1000);

using Binder = std::function<Status(sqlite::Statement&)>;
using RowReader = std::function<void(const sqlite::Statement&)>;

Status for_each_row(sqlite::Connection& db, std::string_view sql, const Binder& bind, const RowReader& read) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  if (bind) {
    if (Status bound = bind(*statement); !bound) return bound;
  }
  while (true) {
    auto row = statement->step();
    if (!row) return row.error();
    if (!row.value()) return {};
    read(*statement);
  }
}

// Every row of `sql` turned into a T by `read`.
template <typename T>
Result<std::vector<T>> collect(sqlite::Connection& db, std::string_view sql, const Binder& bind,
                               const std::function<T(const sqlite::Statement&)>& read) {
  std::vector<T> rows;
  Status done = for_each_row(db, sql, bind, [&](const sqlite::Statement& row) { rows.push_back(read(row)); });
  if (!done) return done.error();
  return rows;
}

std::int64_t percentile(const std::vector<std::int64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1) + 0.5);
  return sorted[std::min(index, sorted.size() - 1)];
}

}  // namespace

JournalReader::JournalReader(sqlite::Connection connection) : connection_(std::move(connection)) {}

Result<std::unique_ptr<JournalReader>> JournalReader::open(const std::filesystem::path& database_file) {
  auto connection = sqlite::Connection::open(database_file, sqlite::OpenMode::read_only, kReaderBusyTimeout);
  if (!connection) return connection.error();
  return std::unique_ptr<JournalReader>(new JournalReader(std::move(connection).value()));
}

Result<std::vector<std::int64_t>> JournalReader::job_ids(const JobFilter& filter) {
  const std::lock_guard lock(mutex_);
  const std::string state = filter.state ? std::string(to_string(*filter.state)) : std::string();
  return collect<std::int64_t>(
      connection_,
      "SELECT id FROM jobs WHERE id > ?1 AND (?2 = '' OR gateway_id = ?2) AND (?3 = '' OR state = ?3) "
      "ORDER BY id LIMIT ?4",
      [&](sqlite::Statement& s) -> Status {
        for (Status bound : {s.bind(1, filter.after_id), s.bind(2, filter.gateway_id), s.bind(3, state),
                             s.bind(4, filter.limit)}) {
          if (!bound) return bound;
        }
        return {};
      },
      [](const sqlite::Statement& row) { return row.column_int64(0); });
}

Result<std::vector<RejectionCount>> JournalReader::rejections() {
  const std::lock_guard lock(mutex_);
  return collect<RejectionCount>(
      connection_,
      "SELECT gateway_id, reason, count(*) FROM jobs WHERE state = 'rejected' GROUP BY gateway_id, reason "
      "ORDER BY gateway_id, reason",
      {}, [](const sqlite::Statement& row) {
        return RejectionCount{row.column_text(0), row.column_text(1), row.column_int64(2)};
      });
}

Result<std::vector<OldestWaiting>> JournalReader::oldest_waiting() {
  const std::lock_guard lock(mutex_);
  return collect<OldestWaiting>(
      connection_,
      "SELECT gateway_id, min(created_at_ms) FROM jobs WHERE state = 'received' GROUP BY gateway_id ORDER BY gateway_id",
      {}, [](const sqlite::Statement& row) { return OldestWaiting{row.column_text(0), row.column_int64(1)}; });
}

Result<std::vector<MinuteCount>> JournalReader::arrivals_per_minute(std::int64_t since_ms) {
  const std::lock_guard lock(mutex_);
  return collect<MinuteCount>(
      connection_,
      "SELECT gateway_id, (created_at_ms / 60000) * 60000 AS minute, count(*) FROM jobs WHERE created_at_ms >= ?1 "
      "GROUP BY gateway_id, minute ORDER BY gateway_id, minute",
      [&](sqlite::Statement& s) { return s.bind(1, since_ms); },
      [](const sqlite::Statement& row) {
        return MinuteCount{row.column_text(0), row.column_int64(1), row.column_int64(2)};
      });
}

Result<std::vector<LatencySummary>> JournalReader::latency(std::int64_t since_ms) {
  const std::lock_guard lock(mutex_);
  std::map<std::string, std::vector<std::int64_t>> by_gateway;
  Status read = for_each_row(
      connection_,
      "SELECT gateway_id, updated_at_ms - created_at_ms FROM jobs WHERE state IN ('written', 'done') "
      "AND updated_at_ms >= ?1",
      [&](sqlite::Statement& s) { return s.bind(1, since_ms); },
      [&](const sqlite::Statement& row) { by_gateway[row.column_text(0)].push_back(row.column_int64(1)); });
  if (!read) return read.error();
  std::vector<LatencySummary> summaries;
  for (auto& [gateway, values] : by_gateway) {
    std::sort(values.begin(), values.end());
    summaries.push_back({gateway, static_cast<std::int64_t>(values.size()), percentile(values, 0.5), percentile(values, 0.95)});
  }
  return summaries;
}

Result<std::vector<LastForward>> JournalReader::last_forwards() {
  const std::lock_guard lock(mutex_);
  return collect<LastForward>(
      connection_,
      "SELECT f.destination, f.state, f.phase, f.detail, f.updated_at_ms FROM forwards f "
      "WHERE f.id = (SELECT g.id FROM forwards g WHERE g.destination = f.destination "
      "AND g.state IN ('done', 'forward_failed', 'forward_unknown') ORDER BY g.updated_at_ms DESC, g.id DESC LIMIT 1) "
      "ORDER BY f.destination",
      {}, [](const sqlite::Statement& row) {
        LastForward forward;
        forward.destination = row.column_text(0);
        forward.state = parse_forward_state(row.column_text(1)).value_or(ForwardState::forward_unknown);
        forward.phase = row.column_text(2);
        forward.detail = row.column_text(3);
        forward.updated_at_ms = row.column_int64(4);
        return forward;
      });
}

Status JournalReader::check() {
  const std::lock_guard lock(mutex_);
  return for_each_row(connection_, "SELECT count(*) FROM sqlite_master", {}, [](const sqlite::Statement&) {});
}

}  // namespace creni::journal
