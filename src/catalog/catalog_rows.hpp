#pragma once

// Internal to the catalog module: reading and writing single rows of the gateway tables. Each call runs inside
// the caller's transaction; column names come only from the tables (catalog_tables.hpp), never from a record
// unchecked.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog_tables.hpp"
#include "creni/common/result.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/statement.hpp"

namespace creni::catalog::detail {

/// The value of column `name` in `values`, "" when absent.
std::string value_of(const Values& values, std::string_view name);

/// Double-quoted SQL identifier; only names from the tables ever get here.
std::string identifier(std::string_view name);

/// The first column of the first row of `sql` with `parameters` bound as text; nullopt when there is no row.
Result<std::optional<std::int64_t>> query_id(sqlite::Connection& db, const std::string& sql,
                                             const std::vector<std::string>& parameters);

/// Finds the row of `table` by its UID column and updates it, or inserts it; returns its id.
Result<std::int64_t> upsert_by_uid(sqlite::Connection& db, const Table& table, std::int64_t reference_id,
                                   const Values& values);

/// The patient row for this record (see Catalog::upsert), updated or inserted.
Result<std::int64_t> upsert_patient(sqlite::Connection& db, const Values& values, const Values& study_values);

// Reads the row of `table` whose `where_column` equals `value`: its id, its referenceId and its known non-NULL
// columns. nullopt when there is no such row.
struct Row {
  std::int64_t id = 0;
  std::int64_t reference_id = 0;
  Values values;
};

template <typename Key>
Result<std::optional<Row>> read_row(sqlite::Connection& db, const Table& table, std::string_view where_column,
                                    const Key& value) {
  auto statement = db.prepare("SELECT * FROM " + identifier(table.name) + " WHERE " + identifier(where_column) + " = ? LIMIT 1");
  if (!statement) return statement.error();
  if (Status bound = statement->bind(1, value); !bound) return bound.error();
  auto found = statement->step();
  if (!found) return found.error();
  if (!found.value()) return std::optional<Row>{};
  Row row;
  for (int i = 0; i < statement->column_count(); ++i) {
    const std::string name = statement->column_name(i);
    if (name == "id") {
      row.id = statement->column_int64(i);
    } else if (name == "referenceId") {
      row.reference_id = statement->column_int64(i);
    } else if (!statement->column_is_null(i) && is_column_of(table, name)) {
      row.values.emplace_back(name, statement->column_text(i));
    }
  }
  return std::optional<Row>{std::move(row)};
}

}  // namespace creni::catalog::detail
