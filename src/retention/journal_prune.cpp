#include "journal_prune.hpp"

#include <spdlog/spdlog.h>

#include <vector>

#include "creni/common/atomic_file.hpp"
#include "file_tree.hpp"

namespace creni::retention {

namespace {

constexpr int kBatch = 200;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("retention");
  return named ? named : spdlog::default_logger();
}

// Whether the row may go now; removes the job's own spool file first when it has one.
bool may_forget(const journal::PrunableJob& job, const config::NodeConfig& config, SweepReport& report) {
  const bool unforwarded = job.state == journal::JobState::forward_failed || job.state == journal::JobState::forward_unknown;
  if (unforwarded && !config.retention_for(job.gateway_id).delete_unforwarded) return false;
  if (job.input_path.empty()) return true;
  std::error_code ec;
  if (is_below(job.input_path, config.state_dir / "spool")) {
    if (std::filesystem::remove(job.input_path, ec)) ++report.spool_files_removed;
    if (ec) ++report.errors;
    return !ec;
  }
  // Gone for sure, or kept: any other answer (permissions, I/O) keeps the row.
  return std::filesystem::symlink_status(job.input_path, ec).type() == std::filesystem::file_type::not_found;
}

}  // namespace

void prune_journal(journal::RetentionQueries& queries, const config::NodeConfig& config, std::int64_t now_ms,
                   const std::function<bool()>& pace, SweepReport& report) {
  if (config.retention.journal_max_age_s == config::kNoAgeLimit) return;
  const std::int64_t cutoff_ms = now_ms - config.retention.journal_max_age_s * 1000;
  std::int64_t after_updated = INT64_MIN;
  std::int64_t after_id = 0;
  while (true) {
    auto listed = queries.jobs_to_prune(cutoff_ms, after_updated, after_id, kBatch);
    if (!listed) {
      logger()->warn("cannot list journal rows to forget: {}", listed.error().describe());
      ++report.errors;
      return;
    }
    if (listed->empty()) return;
    std::vector<std::int64_t> doomed;
    const int spool_removed_before = report.spool_files_removed;
    for (const auto& job : listed.value()) {
      after_updated = job.updated_at_ms;
      after_id = job.job_id;
      if (may_forget(job, config, report)) doomed.push_back(job.job_id);
    }
    // A spool file carries its own arrival record, from which a start records it again when the journal has no row
    // for it (ingest::recover_spooled_arrival): its removal must be durable before its row goes.
    if (report.spool_files_removed > spool_removed_before) {
      if (Status synced = fs::sync_directory(config.state_dir / "spool"); !synced) {
        logger()->warn("cannot sync the spool folder: {}", synced.error().describe());
        ++report.errors;
        return;
      }
    }
    auto deleted = queries.delete_jobs(doomed);
    if (!deleted) {
      logger()->warn("cannot forget {} journal row(s): {}", doomed.size(), deleted.error().describe());
      ++report.errors;
      return;
    }
    report.jobs_pruned += deleted.value();
    if (listed->size() < static_cast<std::size_t>(kBatch) || !pace()) return;
  }
}

}  // namespace creni::retention
