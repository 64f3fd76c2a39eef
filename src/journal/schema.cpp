// Journal: the schema, its migrations and opening the file.

#include "creni/journal/journal.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "retention_schema.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {

// Versions 2-4 are migrations below; version 5 (retention) is retention_schema.cpp's.
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
  retry_at_ms INTEGER,
  canonical_hash TEXT NOT NULL DEFAULT ''
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

// Version 2 -> 3: the canonical content identity of an input, computed when the same SOP Instance UID arrives
// with other bytes, so that the same instance in another transfer syntax is a duplicate and not a conflict.
constexpr std::string_view kMigrationToVersion3 = R"sql(
ALTER TABLE jobs ADD COLUMN canonical_hash TEXT NOT NULL DEFAULT '';
)sql";

// Version 3 -> 4: series. Each job remembers the SCP association that carried it, ended associations are kept
// (a series may complete on release), and every written instance joins a run of its series (journal_series.cpp).
constexpr std::string_view kMigrationToVersion4 = R"sql(
ALTER TABLE jobs ADD COLUMN association TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_by_association ON jobs(association) WHERE association <> '';
CREATE TABLE associations_ended(
  association TEXT PRIMARY KEY,
  ended_at_ms INTEGER NOT NULL
);
CREATE TABLE series(
  id INTEGER PRIMARY KEY,
  gateway_id TEXT NOT NULL,
  study_instance_uid TEXT NOT NULL,
  series_instance_uid TEXT NOT NULL,
  run INTEGER NOT NULL DEFAULT 1,
  state TEXT NOT NULL CHECK (state IN ('open', 'complete', 'reporting', 'reported', 'failed')),
  received INTEGER NOT NULL DEFAULT 0,
  expected INTEGER NOT NULL DEFAULT 0,
  first_arrival_ms INTEGER NOT NULL,
  last_arrival_ms INTEGER NOT NULL,
  last_association TEXT NOT NULL DEFAULT '',
  completed_by TEXT NOT NULL DEFAULT '',
  completed_at_ms INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  result_job_id INTEGER NOT NULL DEFAULT 0,
  result_path TEXT NOT NULL DEFAULT '',
  summary TEXT NOT NULL DEFAULT '',
  reason TEXT NOT NULL DEFAULT '',
  header TEXT NOT NULL DEFAULT '',
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (gateway_id, series_instance_uid, run)
);
CREATE INDEX series_by_state ON series(state, id);
CREATE TABLE series_members(
  series_id INTEGER NOT NULL REFERENCES series(id),
  job_id INTEGER NOT NULL REFERENCES jobs(id),
  sop_class_uid TEXT NOT NULL,
  sop_instance_uid TEXT NOT NULL,
  result_sop_instance_uid TEXT NOT NULL,
  instance_number TEXT NOT NULL DEFAULT '',
  image_position TEXT NOT NULL DEFAULT '',
  image_orientation TEXT NOT NULL DEFAULT '',
  rows TEXT NOT NULL DEFAULT '',
  columns TEXT NOT NULL DEFAULT '',
  pixel_spacing TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (series_id, job_id)
);
CREATE INDEX series_members_by_job ON series_members(job_id);
)sql";

// A failed WAL sync leaves commits that other threads may already have acted on without being on disk, and the
// kernel may have dropped the unsynced pages: neither carrying on nor trying again is safe. The process stops at
// once (exit 3, "stopped on an internal error"); the next start reads the journal as the disk has it and recovers
// (processing jobs run again, forwards in flight become forward_unknown), as after a power cut.
[[noreturn]] void stop_on_failed_sync(const std::filesystem::path& file, const Error& error) {
  logger()->critical("stopping at once: the journal {} could not be synced ({}); its last changes may not be on disk. "
                     "Check the disk, then start the node again: it recovers from what the journal holds",
                     file.string(), error.describe());
  logger()->flush();
  std::_Exit(3);
}

}  // namespace

Journal::Journal(sqlite::Connection connection, std::filesystem::path file, std::uint64_t device, std::uint64_t inode)
    : connection_(std::move(connection)),
      mutex_(connection_, file, [file](const Error& error) { stop_on_failed_sync(file, error); }),
      file_(std::move(file)),
      device_(device),
      inode_(inode) {}

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
  // A new file gets the version 3 schema and then every later migration, so both paths end at the same schema.
  if (version.value() == 0) {
    if (Status created = db.exec(kSchema); !created) return created.error();
  }
  const std::pair<int, std::string_view> migrations[] = {
      {2, kMigrationToVersion2}, {3, kMigrationToVersion3}, {4, kMigrationToVersion4}};
  const int created_at = version.value() == 0 ? 3 : version.value();
  for (const auto& [target, migration] : migrations) {
    if (created_at >= target) continue;
    if (Status migrated = db.exec(migration); !migrated) return migrated.error();
  }
  if (version.value() > 0 && version.value() < kSchemaVersion) {
    logger()->info("{} upgraded from schema version {} to {}", database_file.string(), version.value(), kSchemaVersion);
  }
  if (version.value() < retention_schema::kVersion) {
    if (Status migrated = retention_schema::migrate(db); !migrated) return migrated.error();
  }
  if (version.value() != kSchemaVersion) {
    if (Status versioned = db.set_user_version(kSchemaVersion); !versioned) return versioned.error();
  }
  if (Status done = transaction->commit(); !done) return done.error();
  // The file's identity once the schema is in place (SQLite created it if it was missing), for check_file_in_place.
  struct stat info {};
  if (::stat(database_file.c_str(), &info) != 0) {
    return make_error("sqlite_error", "cannot stat " + database_file.string() + ": " + std::strerror(errno));
  }
  if (Status vacuum = retention_schema::convert_to_incremental_vacuum(db, database_file); !vacuum) return vacuum.error();
  // From here on COMMIT writes the WAL without syncing it: the Journal's GroupCommitMutex syncs it after each
  // holder's commits, outside the lock (synchronous=NORMAL still syncs around checkpoints, keeping the file sound).
  if (Status deferred = db.exec("PRAGMA synchronous=NORMAL"); !deferred) return deferred.error();
  return std::unique_ptr<Journal>(new Journal(std::move(connection).value(), database_file, info.st_dev, info.st_ino));
}

Status Journal::check_file_in_place() const {
  struct stat info {};
  if (::stat(file_.c_str(), &info) != 0) {
    return make_error("journal_replaced", file_.string() + " is gone (" + std::strerror(errno) +
                                              "): the open journal was deleted or moved away");
  }
  if (static_cast<std::uint64_t>(info.st_dev) != device_ || static_cast<std::uint64_t>(info.st_ino) != inode_) {
    return make_error("journal_replaced", file_.string() + " is no longer the journal this node opened: it was replaced");
  }
  return {};
}

}  // namespace creni::journal
