#include "creni/sqlite/statement.hpp"

#include <sqlite3.h>

#include <utility>

#include "sqlite_error.hpp"

namespace creni::sqlite {

Statement::Statement(Statement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::check_bind(int rc) const {
  if (rc != SQLITE_OK) return detail::error_from(sqlite3_db_handle(stmt_), rc, "cannot bind parameter");
  return {};
}

Status Statement::bind(int index, std::int64_t value) { return check_bind(sqlite3_bind_int64(stmt_, index, value)); }

Status Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies the bytes, so the caller's string may go away before step().
  return check_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
}

Status Statement::bind(int index, std::nullptr_t) { return check_bind(sqlite3_bind_null(stmt_, index)); }

Status Statement::bind(int index, double value) { return check_bind(sqlite3_bind_double(stmt_, index, value)); }

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  return detail::error_from(sqlite3_db_handle(stmt_), rc,
                            "step failed in \"" + std::string(sql != nullptr ? sql : "").substr(0, 80) + "\"");
}

std::int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

std::string Statement::column_text(int index) const {
  // Take the pointer before the size: sqlite3_column_bytes reports the size of the conversion just made.
  const auto* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return {};
  const int size = sqlite3_column_bytes(stmt_, index);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

std::string Statement::column_name(int index) const {
  const char* name = sqlite3_column_name(stmt_, index);
  return name != nullptr ? name : "";
}

void Statement::reset() noexcept {
  // sqlite3_reset repeats the error of the last step, which the caller already got from step().
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

}  // namespace creni::sqlite
