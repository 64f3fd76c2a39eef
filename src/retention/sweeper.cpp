#include "creni/retention/sweeper.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <set>

#include "creni/common/free_space.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/common/clock.hpp"
#include "creni/retention/area_usage.hpp"
#include "file_tree.hpp"
#include "journal_prune.hpp"
#include "result_sweep.hpp"

namespace creni::retention {

namespace {

constexpr auto kBatchPause = std::chrono::milliseconds(5);       // lets ingest's writes through between batches
constexpr auto kPressureCheck = std::chrono::seconds(5);
constexpr auto kFirstSweepDelay = std::chrono::seconds(60);
constexpr std::int64_t kEmptyFolderGraceMs = 10 * 60 * 1000;     // a folder just made may be about to get a file
constexpr int kVacuumPages = 2000;                               // per sweep: 8 MB with 4 KiB pages
constexpr int kVacuumStep = 200;                                 // per transaction

// ioprio_set(2): glibc has no wrapper. "who" 0 with IOPRIO_WHO_PROCESS is the calling thread.
constexpr int kIoprioWhoProcess = 1;
constexpr int kIoprioClassIdle = 3;
constexpr int kIoprioClassShift = 13;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("retention");
  return named ? named : spdlog::default_logger();
}

// Configured gateways and every gateway_<id> folder found in the areas (gateways discovered in INPUT).
std::set<std::string> gateway_ids(const config::NodeConfig& config) {
  std::set<std::string> ids;
  for (const auto& gateway : config.gateways) ids.insert(gateway.id);
  for (const auto& root : {config.output_dir, config.state_dir / "archive", config.state_dir / "quarantine"}) {
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(root, ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec)) {
      const auto name = it->path().filename().string();
      if (name.rfind("gateway_", 0) == 0 && it->is_directory(ec)) ids.insert(name.substr(8));
    }
  }
  return ids;
}

void add(SweepReport& total, const SweepReport& one) {
  total.duration_ms += one.duration_ms;
  total.results_removed += one.results_removed;
  total.result_bytes_removed += one.result_bytes_removed;
  total.archive_files_removed += one.archive_files_removed;
  total.archive_bytes_removed += one.archive_bytes_removed;
  total.quarantine_files_removed += one.quarantine_files_removed;
  total.quarantine_bytes_removed += one.quarantine_bytes_removed;
  total.spool_files_removed += one.spool_files_removed;
  total.jobs_pruned += one.jobs_pruned;
  total.pages_reclaimed += one.pages_reclaimed;
  total.undelivered_kept = one.undelivered_kept;  // a level, not a count
  total.errors += one.errors;
}

void log_report(const SweepReport& r) {
  const bool removed = r.results_removed + r.archive_files_removed + r.quarantine_files_removed +
                           r.spool_files_removed + r.jobs_pruned > 0;
  const auto level = r.errors > 0 ? spdlog::level::warn : removed ? spdlog::level::info : spdlog::level::debug;
  logger()->log(level,
                "retention sweep: removed {} result(s) ({} bytes), {} archive file(s) ({} bytes), {} quarantine "
                "file(s) ({} bytes), {} spool file(s), {} journal row(s); {} page(s) reclaimed; {} result(s) past "
                "output_max_age kept, not yet delivered; {} error(s); {} ms",
                r.results_removed, r.result_bytes_removed, r.archive_files_removed, r.archive_bytes_removed,
                r.quarantine_files_removed, r.quarantine_bytes_removed, r.spool_files_removed, r.jobs_pruned,
                r.pages_reclaimed, r.undelivered_kept, r.errors, r.duration_ms);
}

}  // namespace

bool lower_thread_priority() {
  const bool io = ::syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, kIoprioClassIdle << kIoprioClassShift) == 0;
  // setpriority on a thread id changes that thread only (Linux: threads are scheduled entities of their own).
  const bool cpu = ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), 10) == 0;
  return io && cpu;
}

Result<std::unique_ptr<Sweeper>> Sweeper::open(const config::NodeConfig& config) {
  auto queries = journal::RetentionQueries::open(config.state_dir / "journal.db");
  if (!queries) return queries.error();
  return std::unique_ptr<Sweeper>(new Sweeper(config, std::move(queries).value()));
}

Sweeper::Sweeper(config::NodeConfig config, std::unique_ptr<journal::RetentionQueries> queries)
    : config_(std::move(config)), queries_(std::move(queries)) {}

Sweeper::~Sweeper() { stop(); }

Status Sweeper::start() {
  if (thread_.joinable()) return {};
  {
    const std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  try {
    thread_ = std::thread([this] { run(); });
  } catch (const std::system_error& e) {
    return make_error("io_error", std::string("cannot start the retention thread: ") + e.what());
  }
  return {};
}

void Sweeper::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RetentionStats Sweeper::stats() const {
  const std::lock_guard lock(mutex_);
  return stats_;
}

bool Sweeper::pace() {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, kBatchPause, [this] { return stopping_; });
}

void Sweeper::reclaim_journal_space(SweepReport& report) {
  // Small steps: each is a write transaction that holds the journal's lock (and ends with an fsync) while it runs.
  while (report.pages_reclaimed < kVacuumPages) {
    auto reclaimed = queries_->reclaim_space(std::min<int>(kVacuumStep, kVacuumPages - static_cast<int>(report.pages_reclaimed)));
    if (!reclaimed) {
      logger()->warn("cannot reclaim journal space: {}", reclaimed.error().describe());
      ++report.errors;
      break;
    }
    report.pages_reclaimed += reclaimed.value();
    if (reclaimed.value() < kVacuumStep || !pace()) break;
  }
  // The sweep's own pages go from the log to the database here, at idle priority, not in an arrival's commit.
  if (auto copied = queries_->checkpoint(); !copied) {
    logger()->debug("cannot checkpoint the journal: {}", copied.error().describe());
  }
}

bool Sweeper::disk_pressure() const {
  const std::uint64_t near = config_.min_free_mb * 2;
  return fs::free_megabytes(config_.output_dir) < near || fs::free_megabytes(config_.state_dir) < near;
}

void Sweeper::run() {
  pthread_setname_np(pthread_self(), "retention");
  if (!lower_thread_priority()) logger()->debug("cannot lower the retention thread's priority");
  const auto interval = std::chrono::seconds(config_.retention.sweep_interval_s);
  // The first sweep waits a little (at most a minute), so that it does not compete with the node's start.
  auto wait = std::min<std::chrono::steady_clock::duration>(interval, kFirstSweepDelay);
  while (true) {
    std::unique_lock lock(mutex_);
    const auto next = std::chrono::steady_clock::now() + wait;
    wait = interval;
    // Early when the disk fills: size caps then act before the free-space watermark stops intake.
    while (!stopping_ && std::chrono::steady_clock::now() < next) {
      wake_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(kPressureCheck, next - std::chrono::steady_clock::now()));
      if (stopping_) return;
      lock.unlock();
      const bool pressed = disk_pressure();
      lock.lock();
      if (pressed) break;
    }
    if (stopping_) return;
    lock.unlock();
    try {
      sweep_once();
    } catch (const std::exception& e) {
      logger()->error("retention sweep failed: {}", e.what());
    }
  }
}

SweepReport Sweeper::sweep_once() {
  SweepReport report;
  report.started_ms = unix_time_ms();
  const auto started = std::chrono::steady_clock::now();
  const auto pace = [this] { return this->pace(); };
  const ResultSweepContext context{*queries_, config_.output_dir, config_.input_dir, pace};

  resume_interrupted(context, report);
  for (const auto& id : gateway_ids(config_)) {
    const auto& limits = config_.retention_for(id);
    if (!pace()) break;
    sweep_results(context, id, limits, report.started_ms, report);
    const auto folder = "gateway_" + id;
    const auto archived = sweep_tree(config_.state_dir / "archive" / folder, limits.archive_max_age_s, config::kNoSizeLimit,
                                     report.started_ms, pace);
    const auto quarantined = sweep_tree(config_.state_dir / "quarantine" / folder, limits.quarantine_max_age_s,
                                        limits.quarantine_max_bytes, report.started_ms, pace);
    report.archive_files_removed += archived.files;
    report.archive_bytes_removed += archived.bytes;
    report.quarantine_files_removed += quarantined.files;
    report.quarantine_bytes_removed += quarantined.bytes;
    report.errors += archived.errors + quarantined.errors;
    remove_empty_folders(config_.output_dir / folder, report.started_ms, kEmptyFolderGraceMs);
  }
  prune_journal(*queries_, config_, report.started_ms, pace, report);
  reclaim_journal_space(report);
  report.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();

  RetentionStats published;
  published.areas = measure_areas(config_);
  published.areas.measured_ms = unix_time_ms();
  if (auto rows = queries_->rows()) {
    published.areas.journal_jobs = rows->jobs;
    published.areas.journal_forwards = rows->forwards;
  }
  {
    const std::lock_guard lock(mutex_);
    if (stats_.sweeps == 0) stats_.totals.started_ms = report.started_ms;
    ++stats_.sweeps;
    add(stats_.totals, report);
    stats_.last_sweep = report;
    stats_.areas = published.areas;
    published = stats_;
  }
  log_report(report);
  if (Status written = fs::write_file_atomically(config_.state_dir / "retention-status.json", to_json(published)); !written) {
    logger()->debug("cannot publish retention status: {}", written.error().describe());
  }
  return report;
}

}  // namespace creni::retention
