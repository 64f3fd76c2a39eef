#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "creni/common/result.hpp"
#include "creni/sqlite/statement.hpp"

struct sqlite3;

namespace creni::sqlite {

/// How a database file is opened.
enum class OpenMode {
  read_write_create,  ///< read and write; the file is created when missing
  read_only,          ///< read only; a missing file is an error, nothing is ever created
};

/// The busy timeout used unless a caller asks for another: how long a writer waits for another connection's lock.
inline constexpr std::chrono::milliseconds kDefaultBusyTimeout{5000};

/// One open SQLite database connection (RAII: closed by the destructor). Movable, not copyable.
/// Not thread-safe: use it from one thread at a time (guard it with a mutex when shared). Statements prepared
/// from it must be destroyed before it.
class Connection {
 public:
  /// Opens `path`. `busy_timeout` bounds how long any statement waits for a lock held by another connection
  /// before failing with "busy". Errors: "sqlite_error" (cannot open, not a database), "busy".
  [[nodiscard]] static Result<Connection> open(const std::filesystem::path& path,
                                               OpenMode mode = OpenMode::read_write_create,
                                               std::chrono::milliseconds busy_timeout = kDefaultBusyTimeout);

  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Runs one or more SQL statements that return no rows of interest. Errors: "sqlite_error", "busy".
  [[nodiscard]] Status exec(std::string_view sql);

  /// Compiles one SQL statement. Errors: "sqlite_error" (syntax, unknown table or column).
  [[nodiscard]] Result<Statement> prepare(std::string_view sql);

  /// Turns on write-ahead logging with synchronous=FULL (a committed transaction survives a power cut) and
  /// foreign key enforcement. Errors: "sqlite_error" (for example on a read-only connection), "busy".
  [[nodiscard]] Status enable_durable_wal();

  /// PRAGMA user_version, the schema version number kept in the file header.
  [[nodiscard]] Result<int> user_version();
  /// Sets PRAGMA user_version.
  [[nodiscard]] Status set_user_version(int version);

  /// Row id of the most recent successful INSERT on this connection.
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  /// Rows changed by the most recent INSERT, UPDATE or DELETE on this connection.
  [[nodiscard]] int changes() const;

  /// The underlying handle, for the rare call this wrapper does not cover. Owned by the Connection.
  [[nodiscard]] sqlite3* handle() const { return db_; }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  void close() noexcept;

  sqlite3* db_ = nullptr;
};

}  // namespace creni::sqlite
