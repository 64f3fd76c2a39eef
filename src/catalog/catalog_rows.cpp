// Single rows of the gateway tables: insert, update, find by UID, and the patient row, which has no UID.

#include <utility>

#include "catalog_rows.hpp"

namespace creni::catalog::detail {

std::string value_of(const Values& values, std::string_view name) {
  for (const auto& [column, value] : values) {
    if (column == name) return value;
  }
  return {};
}

std::string identifier(std::string_view name) { return "\"" + std::string(name) + "\""; }

Result<std::optional<std::int64_t>> query_id(sqlite::Connection& db, const std::string& sql,
                                             const std::vector<std::string>& parameters) {
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    if (Status bound = statement->bind(static_cast<int>(i + 1), parameters[i]); !bound) return bound.error();
  }
  auto row = statement->step();
  if (!row) return row.error();
  if (!row.value()) return std::optional<std::int64_t>{};
  return std::optional<std::int64_t>{statement->column_int64(0)};
}

Result<std::int64_t> insert_row(sqlite::Connection& db, const Table& table, std::int64_t reference_id,
                                const Values& values) {
  std::string sql = "INSERT INTO " + identifier(table.name) + "(referenceId";
  std::string placeholders = "?";
  for (const auto& [column, value] : values) {
    sql += ", " + identifier(column);
    placeholders += ", ?";
  }
  sql += ") VALUES (" + placeholders + ")";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  if (Status bound = statement->bind(1, reference_id); !bound) return bound.error();
  int index = 2;
  for (const auto& [column, value] : values) {
    if (Status bound = statement->bind(index++, value); !bound) return bound.error();
  }
  auto stepped = statement->step();
  if (!stepped) return stepped.error();
  return db.last_insert_rowid();
}

// Sets the given values (and referenceId when given) on row `id`; columns not in `values` keep what they hold.
Status update_row(sqlite::Connection& db, const Table& table, std::int64_t id,
                  std::optional<std::int64_t> reference_id, const Values& values) {
  if (values.empty() && !reference_id) return {};
  std::string sql = "UPDATE " + identifier(table.name) + " SET ";
  bool first = true;
  if (reference_id) {
    sql += "referenceId = ?";
    first = false;
  }
  for (const auto& [column, value] : values) {
    sql += (first ? "" : ", ") + identifier(column) + " = ?";
    first = false;
  }
  sql += " WHERE id = ?";
  auto statement = db.prepare(sql);
  if (!statement) return statement.error();
  int index = 1;
  if (reference_id) {
    if (Status bound = statement->bind(index++, *reference_id); !bound) return bound;
  }
  for (const auto& [column, value] : values) {
    if (Status bound = statement->bind(index++, value); !bound) return bound;
  }
  if (Status bound = statement->bind(index, id); !bound) return bound;
  auto stepped = statement->step();
  if (!stepped) return stepped.error();
  return {};
}

// Finds the row of `table` by its UID column and updates it, or inserts it; returns its id.
Result<std::int64_t> upsert_by_uid(sqlite::Connection& db, const Table& table, std::int64_t reference_id,
                                   const Values& values) {
  const std::string uid = value_of(values, table.key_column);
  auto existing = query_id(db, "SELECT id FROM " + identifier(table.name) + " WHERE " + identifier(table.key_column) + " = ?",
                           {uid});
  if (!existing) return existing.error();
  if (!existing.value()) return insert_row(db, table, reference_id, values);
  if (Status updated = update_row(db, table, *existing.value(), reference_id, values); !updated) {
    return updated.error();
  }
  return *existing.value();
}

// The patient row for this record (see Catalog::upsert), updated or inserted.
Result<std::int64_t> upsert_patient(sqlite::Connection& db, const Values& values, const Values& study_values) {
  const Table& patients = table(Level::patient);
  const std::string patient_id = value_of(values, "PatientID");
  const std::string patient_name = value_of(values, "PatientName");

  std::optional<std::int64_t> found;
  auto study_patient = query_id(db,
                                "SELECT p.id FROM study s JOIN patient p ON p.id = s.referenceId "
                                "WHERE s.StudyInstanceUID = ? AND (? = '' OR p.PatientID = ?)",
                                {value_of(study_values, "StudyInstanceUID"), patient_id, patient_id});
  if (!study_patient) return study_patient.error();
  found = study_patient.value();

  // Without a PatientID there is nothing to match a patient of another study by: anonymised data often shares
  // a name ("ANONYMOUS") between different people, so such a study gets its own patient row.
  if (!found && !patient_id.empty()) {
    auto by_id = patient_name.empty()
                     ? query_id(db, "SELECT id FROM patient WHERE PatientID = ? ORDER BY id LIMIT 1", {patient_id})
                     : query_id(db, "SELECT id FROM patient WHERE PatientID = ? AND PatientName = ? ORDER BY id LIMIT 1",
                                {patient_id, patient_name});
    if (!by_id) return by_id.error();
    found = by_id.value();
  }
  if (!found) return insert_row(db, patients, 0, values);  // the gateways' patient rows reference nothing: 0
  if (Status updated = update_row(db, patients, *found, std::nullopt, values); !updated) return updated.error();
  return *found;
}

}  // namespace creni::catalog::detail
