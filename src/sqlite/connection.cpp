#include "creni/sqlite/connection.hpp"

#include <sqlite3.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "sqlite_error.hpp"

namespace creni::sqlite {

namespace {

constexpr auto kShortWait = std::chrono::microseconds(250);
constexpr int kShortWaits = 40;  // 10 ms of short waits, then 1 ms ones
constexpr auto kLongWait = std::chrono::milliseconds(1);

// SQLite's own busy timeout sleeps 1, 2, 5, 10, 15, 20, 25 ... ms between attempts: a writer that finds the lock
// held for 4 ms waits 8, one that finds it held 9 ms waits 18. An arrival's commit behind another writer's short
// transaction (the pipeline's, the forwarder's, the retention sweeper's, each ending with an fsync) should wait
// about as long as the lock is held, so this handler looks again every 250 us for the first 10 ms, then every
// millisecond, until the connection's timeout (in ms, the argument) has passed.
int wait_while_busy(void* timeout_arg, int attempts) {
  const auto timeout = std::chrono::milliseconds(reinterpret_cast<std::intptr_t>(timeout_arg));
  const auto waited = attempts < kShortWaits ? kShortWait * attempts
                                             : kShortWait * kShortWaits + kLongWait * (attempts - kShortWaits);
  if (waited >= timeout) return 0;
  std::this_thread::sleep_for(attempts < kShortWaits ? std::chrono::microseconds(kShortWait)
                                                     : std::chrono::microseconds(kLongWait));
  return 1;
}

}  // namespace

Result<Connection> Connection::open(const std::filesystem::path& path, OpenMode mode,
                                    std::chrono::milliseconds busy_timeout) {
  // NOMUTEX: a Connection is used by one thread at a time (callers guard shared ones), so SQLite's own per-call
  // mutex would only cost time. EXRESCODE gives extended codes in errors, which tell more in logs.
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= mode == OpenMode::read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);

  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  // sqlite3_open_v2 hands out a handle even when it fails; the Connection owns it from here in every case.
  Connection connection(db);
  if (rc != SQLITE_OK) return detail::error_from(db, rc, "cannot open " + path.string());

  const auto timeout_ms = busy_timeout.count() > INT_MAX ? INT_MAX : static_cast<int>(busy_timeout.count());
  // The handler carries its timeout in its argument: no state to keep alive beside the handle.
  void* timeout_arg = reinterpret_cast<void*>(static_cast<std::intptr_t>(timeout_ms < 0 ? 0 : timeout_ms));
  if (const int set = sqlite3_busy_handler(db, wait_while_busy, timeout_arg); set != SQLITE_OK) {
    return detail::error_from(db, set, "cannot set busy timeout on " + path.string());
  }
  // Opening is lazy: a file that is not a database is only detected at the first read. Read the schema now so
  // that open() itself reports it.
  if (Status readable = connection.exec("SELECT count(*) FROM sqlite_master"); !readable) {
    return Error{readable.error().code, "cannot read " + path.string() + ": " + readable.error().message};
  }
  return connection;
}

Connection::Connection(Connection&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

Connection::~Connection() { close(); }

void Connection::close() noexcept {
  // sqlite3_close_v2 defers the close until any forgotten statement is finalized instead of failing.
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Status Connection::exec(std::string_view sql) {
  if (db_ == nullptr) return make_error("sqlite_error", "connection is closed");
  const std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  sqlite3_free(message);  // the same text is available from sqlite3_errmsg
  if (rc != SQLITE_OK) return detail::error_from(db_, rc, "exec failed");
  return {};
}

Result<Statement> Connection::prepare(std::string_view sql) {
  if (db_ == nullptr) return make_error("sqlite_error", "connection is closed");
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return detail::error_from(db_, rc, "cannot prepare \"" + std::string(sql.substr(0, 80)) + "\"");
  }
  if (stmt == nullptr) return make_error("sqlite_error", "cannot prepare an empty statement");
  return Statement(stmt);
}

Status Connection::enable_durable_wal() {
  // journal_mode answers with the mode actually in effect; anything but "wal" means it could not be switched
  // (for example an in-memory database), which would silently lose the durability this call promises.
  auto mode = prepare("PRAGMA journal_mode=WAL");
  if (!mode) return mode.error();
  auto row = mode->step();
  if (!row) return row.error();
  if (!row.value() || mode->column_text(0) != "wal") {
    return make_error("sqlite_error", "journal_mode WAL not available (got \"" + mode->column_text(0) + "\")");
  }
  return exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
}

Result<int> Connection::user_version() {
  auto statement = prepare("PRAGMA user_version");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return row.value() ? static_cast<int>(statement->column_int64(0)) : 0;
}

Status Connection::set_user_version(int version) {
  // PRAGMA takes no parameters; an int rendered by to_string is safe to splice.
  return exec("PRAGMA user_version=" + std::to_string(version));
}

std::int64_t Connection::last_insert_rowid() const { return db_ != nullptr ? sqlite3_last_insert_rowid(db_) : 0; }

int Connection::changes() const { return db_ != nullptr ? sqlite3_changes(db_) : 0; }

}  // namespace creni::sqlite
