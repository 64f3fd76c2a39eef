#pragma once

// SQL plumbing shared by the journal's source files (not installed; the journal's own code only).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "creni/common/result.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"

namespace creni::journal {

inline std::string sql_with(std::string_view before, std::string_view columns, std::string_view after) {
  std::string sql(before);
  sql += columns;
  sql += after;
  return sql;
}

// Parameter binding for the handful of types the journal stores.
inline Status bind_value(sqlite::Statement& statement, int index, std::int64_t value) { return statement.bind(index, value); }
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

}  // namespace creni::journal
