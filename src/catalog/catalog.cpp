#include "creni/catalog/catalog.hpp"

#include <chrono>
#include <set>
#include <string_view>

#include "catalog_rows.hpp"
#include "catalog_tables.hpp"
#include "creni/sqlite/statement.hpp"
#include "creni/sqlite/transaction.hpp"

// The Catalog itself: opening image.db (creating the gateways' tables when missing), and upserting and finding
// records, one transaction per call. The tables are in catalog_tables.cpp, the row SQL in catalog_rows.cpp,
// records from DICOM in catalog_record.cpp.

namespace creni::catalog {

using detail::is_column_of;
using detail::Level;
using detail::part;
using detail::query_id;
using detail::read_row;
using detail::Table;
using detail::table;
using detail::tables;
using detail::upsert_by_uid;
using detail::upsert_patient;
using detail::value_of;
using detail::Values;

namespace {

constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);

// The record's non-empty values, first occurrence of each column only. Column names are checked against the
// table's own list here because they are spliced into SQL as identifiers.
Result<Values> usable_values(const CatalogRecord& record, const Table& table) {
  Values values;
  std::set<std::string> seen;
  for (const auto& [name, value] : part(record, table.level)) {
    if (!is_column_of(table, name)) {
      return make_error("invalid_record", "\"" + name + "\" is not a column of table " + std::string(table.name));
    }
    if (value.empty() || !seen.insert(name).second) continue;
    values.emplace_back(name, value);
  }
  return values;
}

Status require(const Values& values, std::string_view column, std::string_view table_name) {
  if (value_of(values, column).empty()) {
    return make_error("invalid_record", "no " + std::string(column) + " for table " + std::string(table_name));
  }
  return {};
}

// Creates the tables that are missing (all of them in a new file) with the gateways' statements.
Status ensure_schema(sqlite::Connection& db) {
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return transaction.error();
  for (const Table& each : tables()) {
    auto exists = query_id(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", {std::string(each.name)});
    if (!exists) return exists.error();
    if (exists.value()) continue;
    if (Status created = db.exec(each.create_table); !created) return created;
    if (Status indexed = db.exec(each.create_index); !indexed) return indexed;
  }
  return transaction->commit();
}

}  // namespace

Catalog::Catalog(sqlite::Connection connection) : connection_(std::move(connection)) {}

Catalog::~Catalog() = default;

Result<std::unique_ptr<Catalog>> Catalog::open_for_writing(const std::filesystem::path& file) {
  auto connection = sqlite::Connection::open(file, sqlite::OpenMode::read_write_create, kBusyTimeout);
  if (!connection) return connection.error();
  if (Status schema = ensure_schema(connection.value()); !schema) return schema.error();
  return std::unique_ptr<Catalog>(new Catalog(std::move(connection).value()));
}

Result<std::unique_ptr<Catalog>> Catalog::open_read_only(const std::filesystem::path& file) {
  auto connection = sqlite::Connection::open(file, sqlite::OpenMode::read_only, kBusyTimeout);
  if (!connection) return connection.error();
  return std::unique_ptr<Catalog>(new Catalog(std::move(connection).value()));
}

Status Catalog::upsert(const CatalogRecord& record) { return upsert_all({record}); }

Status Catalog::upsert_all(const std::vector<CatalogRecord>& records) {
  const std::lock_guard lock(mutex_);
  // IMMEDIATE: another process's upsert of the same study waits here instead of both inserting it.
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  for (const CatalogRecord& record : records) {
    if (Status added = upsert_in_transaction(record); !added) return added;
  }
  // One commit for the batch: in the rollback-journal mode the gateways' readers need, a commit costs several
  // fsyncs, which would otherwise be paid per image.
  return transaction->commit();
}

Status Catalog::upsert_in_transaction(const CatalogRecord& record) {
  auto patient_values = usable_values(record, table(Level::patient));
  if (!patient_values) return patient_values.error();
  auto study_values = usable_values(record, table(Level::study));
  if (!study_values) return study_values.error();
  auto series_values = usable_values(record, table(Level::series));
  if (!series_values) return series_values.error();
  auto image_values = usable_values(record, table(Level::image));
  if (!image_values) return image_values.error();
  if (Status ok = require(*study_values, "StudyInstanceUID", "study"); !ok) return ok;
  if (Status ok = require(*series_values, "SeriesInstanceUID", "series"); !ok) return ok;
  if (Status ok = require(*image_values, "SOPInstanceUID", "image"); !ok) return ok;

  auto patient_id = upsert_patient(connection_, *patient_values, *study_values);
  if (!patient_id) return patient_id.error();
  auto study_id = upsert_by_uid(connection_, table(Level::study), patient_id.value(), *study_values);
  if (!study_id) return study_id.error();
  auto series_id = upsert_by_uid(connection_, table(Level::series), study_id.value(), *series_values);
  if (!series_id) return series_id.error();
  auto image_id = upsert_by_uid(connection_, table(Level::image), series_id.value(), *image_values);
  if (!image_id) return image_id.error();
  return {};
}

Result<bool> Catalog::contains_image(const std::string& sop_instance_uid) {
  const std::lock_guard lock(mutex_);
  auto found = query_id(connection_, "SELECT id FROM image WHERE SOPInstanceUID = ? LIMIT 1", {sop_instance_uid});
  if (!found) return found.error();
  return found.value().has_value();
}

Result<std::optional<CatalogRecord>> Catalog::find_image(const std::string& sop_instance_uid) {
  const std::lock_guard lock(mutex_);
  // One read transaction, so that the four rows belong together even while another process writes.
  auto transaction = sqlite::Transaction::begin(connection_, sqlite::TransactionKind::deferred);
  if (!transaction) return transaction.error();

  CatalogRecord record;
  auto image = read_row(connection_, table(Level::image), "SOPInstanceUID", sop_instance_uid);
  if (!image) return image.error();
  if (!image.value()) return std::optional<CatalogRecord>{};
  record.image = std::move(image.value()->values);

  std::int64_t parent = image.value()->reference_id;
  for (const Level level : {Level::series, Level::study, Level::patient}) {
    auto row = read_row(connection_, table(level), "id", parent);
    if (!row) return row.error();
    if (!row.value()) break;  // a dangling link: return what there is
    part(record, level) = std::move(row.value()->values);
    parent = row.value()->reference_id;
  }
  if (Status done = transaction->commit(); !done) return done.error();
  return std::optional<CatalogRecord>{std::move(record)};
}

}  // namespace creni::catalog
