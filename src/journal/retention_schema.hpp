#pragma once

#include <filesystem>

#include "creni/common/result.hpp"
#include "creni/sqlite/connection.hpp"

// The journal's schema additions for retention (src/retention), kept apart from the job and forward schema.
namespace creni::journal::retention_schema {

/// The schema version that has the retention column (jobs.retention_state).
inline constexpr int kVersion = 5;

/// Version 4 -> 5, inside the caller's schema transaction: jobs.retention_state ('kept', 'sweeping' while the
/// sweeper deletes a result, 'swept' once it is gone) and the index the sweeper walks.
[[nodiscard]] Status migrate(sqlite::Connection& db);

/// Before anything is written to a new file (and before WAL is switched on, which writes the header): asks for
/// incremental auto-vacuum, so that the sweeper can give freed pages back to the file system without a full VACUUM.
[[nodiscard]] Status request_incremental_vacuum(sqlite::Connection& db);

/// After the schema transaction: a journal made before incremental auto-vacuum existed is converted once with a
/// VACUUM (logged; it rewrites the file and needs every other connection to wait). A no-op when already done.
[[nodiscard]] Status convert_to_incremental_vacuum(sqlite::Connection& db, const std::filesystem::path& file);

}  // namespace creni::journal::retention_schema
