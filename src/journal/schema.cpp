// Journal: the schema, its migrations and opening the file.

#include "creni/journal/journal.hpp"

#include <chrono>
#include <utility>

#include "retention_schema.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {

constexpr int kSchemaVersion = retention_schema::kVersion;
constexpr auto kBusyTimeout = std::chrono::milliseconds(5000);

// The CHECK constraints keep every stored state parseable, so reading a row never has to guess.
constexpr std::string_view kSchema = R"sql(
CREATE TABLE jobs(
  id INTEGER PRIMARY KEY,
  gateway_id TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('folder', 'scp')),
  input_path TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('received', 'processing', 'written', 'forwarding', 'done', 'rejected',
                                       'forward_failed', 'forward_unknown')),
  attempts INTEGER NOT NULL DEFAULT 0,
  reason TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  output_path TEXT NOT NULL DEFAULT '',
  result_sop_instance_uid TEXT NOT NULL DEFAULT '',
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  catalogue_pending INTEGER NOT NULL DEFAULT 0,
  retry_at_ms INTEGER
);
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_to_catalogue ON jobs(id) WHERE catalogue_pending = 1;
CREATE INDEX jobs_by_sop_instance ON jobs(gateway_id, sop_instance_uid);
CREATE INDEX jobs_by_input_path ON jobs(input_path);
CREATE TABLE forwards(
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  destination TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('waiting', 'forwarding', 'done', 'forward_failed', 'forward_unknown')),
  attempts INTEGER NOT NULL DEFAULT 0,
  phase TEXT NOT NULL DEFAULT '',
  detail TEXT NOT NULL DEFAULT '',
  dimse_status INTEGER NOT NULL DEFAULT -1,
  next_attempt_at_ms INTEGER,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX forwards_by_destination ON forwards(destination, state, id);
CREATE INDEX forwards_by_job ON forwards(job_id);
)sql";

// Version 1 -> 2: image.db rows are confirmed per job, so that a crash between the result and its image.db row
// is repaired at the next start (rows written before the upgrade are taken as indexed); a job that failed for a
// reason outside the image (disk full, read-only OUTPUT) waits until retry_at_ms before it is claimed again.
constexpr std::string_view kMigrationToVersion2 = R"sql(
ALTER TABLE jobs ADD COLUMN catalogue_pending INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN retry_at_ms INTEGER;
CREATE INDEX jobs_to_catalogue ON jobs(id) WHERE catalogue_pending = 1;
)sql";


}  // namespace

Journal::Journal(sqlite::Connection connection) : connection_(std::move(connection)) {}

Journal::~Journal() = default;

Result<std::unique_ptr<Journal>> Journal::open(const std::filesystem::path& database_file) {
  auto connection = sqlite::Connection::open(database_file, sqlite::OpenMode::read_write_create, kBusyTimeout);
  if (!connection) return connection.error();
  sqlite::Connection& db = connection.value();
  if (Status vacuum = retention_schema::request_incremental_vacuum(db); !vacuum) return vacuum.error();
  if (Status wal = db.enable_durable_wal(); !wal) return wal.error();

  // Schema creation in one IMMEDIATE transaction: a second process opening a new file at the same moment waits
  // and then finds the schema made.
  auto transaction = sqlite::Transaction::begin(db);
  if (!transaction) return transaction.error();
  auto version = db.user_version();
  if (!version) return version.error();
  if (version.value() > kSchemaVersion) {
    return make_error("unsupported_schema", database_file.string() + " has schema version " +
                                                std::to_string(version.value()) + ", this build knows up to " +
                                                std::to_string(kSchemaVersion));
  }
  if (version.value() == 0) {
    if (Status created = db.exec(kSchema); !created) return created.error();
  } else if (version.value() == 1) {
    if (Status migrated = db.exec(kMigrationToVersion2); !migrated) return migrated.error();
    logger()->info("{} upgraded from schema version 1 to {}", database_file.string(), kSchemaVersion);
  }
  if (version.value() < retention_schema::kVersion) {
    if (Status migrated = retention_schema::migrate(db); !migrated) return migrated.error();
  }
  if (version.value() != kSchemaVersion) {
    if (Status versioned = db.set_user_version(kSchemaVersion); !versioned) return versioned.error();
  }
  if (Status done = transaction->commit(); !done) return done.error();
  if (Status vacuum = retention_schema::convert_to_incremental_vacuum(db, database_file); !vacuum) return vacuum.error();
  return std::unique_ptr<Journal>(new Journal(std::move(connection).value()));
}

}  // namespace creni::journal
