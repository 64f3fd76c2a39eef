#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace creni::retention {

/// Bytes and files below one folder (or of one file set).
struct AreaUsage {
  std::int64_t bytes = 0;
  std::int64_t files = 0;
};

/// What the node keeps on disk, per area. `journal` is journal.db with its WAL (files: 1-3); its rows are
/// counted apart.
struct AreaFigures {
  AreaUsage output;      ///< OUTPUT/ (results and image.db files)
  AreaUsage archive;     ///< state/archive/
  AreaUsage quarantine;  ///< state/quarantine/
  AreaUsage spool;       ///< state/spool/
  AreaUsage journal;     ///< state/journal.db*
  std::int64_t journal_jobs = 0;      ///< rows in jobs
  std::int64_t journal_forwards = 0;  ///< rows in forwards
  std::int64_t measured_ms = 0;       ///< unix epoch ms when these were measured; 0 = never
};

/// What one sweep did.
struct SweepReport {
  std::int64_t started_ms = 0;          ///< unix epoch ms; 0 = no sweep yet
  std::int64_t duration_ms = 0;
  std::int64_t results_removed = 0;     ///< results in OUTPUT (with their image.db rows and SCP copies in INPUT)
  std::int64_t result_bytes_removed = 0;
  std::int64_t archive_files_removed = 0;
  std::int64_t archive_bytes_removed = 0;
  std::int64_t quarantine_files_removed = 0;
  std::int64_t quarantine_bytes_removed = 0;
  std::int64_t spool_files_removed = 0;  ///< received files of rejected SCP arrivals (quarantine keeps a copy)
  std::int64_t jobs_pruned = 0;          ///< journal rows of finished jobs (with their forwards)
  std::int64_t pages_reclaimed = 0;      ///< SQLite pages given back by incremental vacuum
  std::int64_t undelivered_kept = 0;     ///< results past output_max_age kept because not yet delivered
  std::int64_t errors = 0;               ///< files or rows that could not be removed (logged; retried next sweep)
};

/// The sweeper's figures: a plain value that `status` and the metrics endpoint read (Sweeper::stats()), and that
/// the node publishes in <state>/retention-status.json after every sweep.
struct RetentionStats {
  AreaFigures areas;            ///< measured at the end of the last sweep
  SweepReport last_sweep;
  SweepReport totals;           ///< every sweep since the node started, added up (started_ms: the first one)
  std::int64_t sweeps = 0;      ///< since the node started
};

/// The stats as one JSON object: {"sweeps":N,"areas":{...},"last_sweep":{...},"totals":{...}} (numbers only).
[[nodiscard]] nlohmann::json to_document(const RetentionStats& stats);
/// to_document() as text, as the node publishes it.
[[nodiscard]] std::string to_json(const RetentionStats& stats);

/// The stats published in `file`, or nullopt when there is none or it cannot be read.
[[nodiscard]] std::optional<RetentionStats> read_retention_stats(const std::filesystem::path& file);

}  // namespace creni::retention
