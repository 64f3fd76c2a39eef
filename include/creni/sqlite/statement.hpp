#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "creni/common/result.hpp"

struct sqlite3_stmt;

namespace creni::sqlite {

/// A prepared SQL statement (RAII: finalized by the destructor). Movable, not copyable. Made by
/// Connection::prepare and bound to that connection: not thread-safe, and it must not outlive the connection.
/// Parameter and column indexes follow SQLite: parameters start at 1, result columns at 0.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  /// Binds a value to parameter `index` (1-based). Errors: "sqlite_error" (index out of range, statement busy).
  [[nodiscard]] Status bind(int index, std::int64_t value);
  /// Binds an int (convenience, so that literals are not ambiguous between the integer and double overloads).
  [[nodiscard]] Status bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  /// Binds a copy of `value` as TEXT.
  [[nodiscard]] Status bind(int index, std::string_view value);
  /// Binds a C string as TEXT (so that string literals do not decay to another overload).
  [[nodiscard]] Status bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  /// Binds a std::string as TEXT.
  [[nodiscard]] Status bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  /// Binds SQL NULL.
  [[nodiscard]] Status bind(int index, std::nullptr_t);
  /// Binds a REAL.
  [[nodiscard]] Status bind(int index, double value);

  /// Runs the statement one step: true when a row is available (read it with column_*), false when done.
  /// Errors: "busy" (a lock stayed held past the busy timeout), "sqlite_error" (constraint, I/O, ...).
  [[nodiscard]] Result<bool> step();

  /// Column `index` (0-based) of the current row as an integer (NULL reads as 0).
  [[nodiscard]] std::int64_t column_int64(int index) const;
  /// Column `index` of the current row as text (NULL reads as "").
  [[nodiscard]] std::string column_text(int index) const;
  /// Column `index` of the current row as a double (NULL reads as 0.0).
  [[nodiscard]] double column_double(int index) const;
  /// Whether column `index` of the current row is NULL.
  [[nodiscard]] bool column_is_null(int index) const;
  /// Number of columns in the result.
  [[nodiscard]] int column_count() const;
  /// Name of result column `index` as declared in the query.
  [[nodiscard]] std::string column_name(int index) const;

  /// Makes the statement ready to run again and clears every binding (parameters become NULL).
  void reset() noexcept;

 private:
  friend class Connection;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  [[nodiscard]] Status check_bind(int rc) const;

  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace creni::sqlite
