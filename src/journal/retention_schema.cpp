#include "retention_schema.hpp"

#include <spdlog/spdlog.h>

#include "creni/sqlite/statement.hpp"

namespace creni::journal::retention_schema {

namespace {

constexpr int kIncrementalVacuum = 2;  // PRAGMA auto_vacuum: 0 none, 1 full, 2 incremental

Result<int> auto_vacuum_mode(sqlite::Connection& db) {
  auto statement = db.prepare("PRAGMA auto_vacuum");
  if (!statement) return statement.error();
  auto row = statement->step();
  if (!row) return row.error();
  return row.value() ? static_cast<int>(statement->column_int64(0)) : 0;
}

}  // namespace

Status migrate(sqlite::Connection& db) {
  return db.exec(R"sql(
ALTER TABLE jobs ADD COLUMN retention_state TEXT NOT NULL DEFAULT 'kept'
  CHECK (retention_state IN ('kept', 'sweeping', 'swept'));
CREATE INDEX jobs_to_sweep ON jobs(gateway_id, id) WHERE retention_state != 'swept';
CREATE INDEX jobs_by_update ON jobs(updated_at_ms);
)sql");
}

Status request_incremental_vacuum(sqlite::Connection& db) { return db.exec("PRAGMA auto_vacuum = INCREMENTAL"); }

Status convert_to_incremental_vacuum(sqlite::Connection& db, const std::filesystem::path& file) {
  auto mode = auto_vacuum_mode(db);
  if (!mode) return mode.error();
  if (mode.value() == kIncrementalVacuum) return {};
  auto logger = spdlog::get("journal");
  (logger ? logger : spdlog::default_logger())
      ->info("{}: switching to incremental auto-vacuum (one VACUUM, once)", file.string());
  if (Status set = db.exec("PRAGMA auto_vacuum = INCREMENTAL"); !set) return set;
  return db.exec("VACUUM");
}

}  // namespace creni::journal::retention_schema
