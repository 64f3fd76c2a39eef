#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "creni/common/result.hpp"

namespace creni::sqlite::detail {

// One place that turns a SQLite result code into our Error: "busy" for lock timeouts, so that callers can tell
// "try again later" from a real failure, and "sqlite_error" for everything else, with SQLite's own message.
inline Error error_from(sqlite3* db, int rc, std::string_view what) {
  const int primary = rc & 0xff;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string text(what);
  text += ": ";
  text += message != nullptr ? message : sqlite3_errstr(rc);
  text += " (";
  text += std::to_string(rc);
  text += ")";
  return make_error(primary == SQLITE_BUSY ? "busy" : "sqlite_error", std::move(text));
}

}  // namespace creni::sqlite::detail
