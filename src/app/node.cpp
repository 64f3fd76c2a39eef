#include "creni/app/node.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include "creni/app/node_status.hpp"
#include "creni/common/clock.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/forward/dcmtk_pacs_sender.hpp"
#include "creni/forward/forwarder.hpp"
#include "creni/ingest/folder_watcher.hpp"
#include "creni/ingest/storage_scp.hpp"
#include "creni/journal/journal.hpp"
#include "creni/pipeline/journal_arrival_sink.hpp"
#include "creni/pipeline/pipeline.hpp"
#include "creni/retention/sweeper.hpp"

namespace creni::app {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("node");
  return named ? named : spdlog::default_logger();
}

// Holds an exclusive flock on <state>/lock for the node's lifetime: two nodes on one journal and one OUTPUT would
// process and forward everything twice.
class StateLock {
 public:
  static Result<std::unique_ptr<StateLock>> acquire(const std::filesystem::path& state_dir) {
    const auto path = state_dir / "lock";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return make_error("io_error", "cannot open " + path.string() + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return make_error("locked", "another creni-node uses " + state_dir.string());
    }
    return std::unique_ptr<StateLock>(new StateLock(fd));
  }
  ~StateLock() { ::close(fd_); }
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;

 private:
  explicit StateLock(int fd) : fd_(fd) {}
  int fd_;
};

int worker_count(const config::NodeConfig& config) {
  if (config.workers > 0) return config.workers;
  return std::max(1U, std::thread::hardware_concurrency());
}

std::uint64_t free_megabytes(const std::filesystem::path& folder) {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return UINT64_MAX;  // unknown: do not stop intake on a stat failure
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize / (1024 * 1024);
}

// Temporary files of atomic writes interrupted by a crash: never a result, always safe to remove.
int remove_interrupted_writes(const std::filesystem::path& root) {
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec); !ec && it != std::filesystem::recursive_directory_iterator();
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (it->is_regular_file(ec) && fs::is_temp_name(name)) {
      std::error_code removal;
      if (std::filesystem::remove(it->path(), removal)) ++removed;
    }
  }
  return removed;
}

// A data set the SCP made durable but the node crashed before it was journaled was never acknowledged: its sender
// still owns it and will send it again, so the spool copy is not ours to keep.
int remove_unrecorded_receptions(journal::Journal& journal, const std::filesystem::path& spool) {
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(spool, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".dcm") continue;
    auto known = journal.has_job_for_input(it->path());
    if (known && !known.value()) {
      std::error_code removal;
      if (std::filesystem::remove(it->path(), removal)) ++removed;
    }
  }
  return removed;
}

// Writes <state>/node-status.json every 2 s from its own thread ("node-status"), for `creni-node status`.
class StatusPublisher {
 public:
  StatusPublisher(std::filesystem::path file, std::function<NodeStatus()> snapshot)
      : file_(std::move(file)), snapshot_(std::move(snapshot)), thread_([this] { run(); }) {}
  ~StatusPublisher() {
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    stop_.notify_all();
    thread_.join();
    std::error_code ignored;
    std::filesystem::remove(file_, ignored);  // a stopped node publishes nothing
  }
  StatusPublisher(const StatusPublisher&) = delete;
  StatusPublisher& operator=(const StatusPublisher&) = delete;

 private:
  void run() {
    pthread_setname_np(pthread_self(), "node-status");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      try {
        if (Status written = fs::write_file_atomically(file_, to_json(snapshot_())); !written) {
          logger()->debug("cannot publish status: {}", written.error().describe());
        }
      } catch (const std::exception& e) {
        logger()->debug("cannot publish status: {}", e.what());
      }
      lock.lock();
      stop_.wait_for(lock, std::chrono::seconds(2), [this] { return stopping_; });
    }
  }

  std::filesystem::path file_;
  std::function<NodeStatus()> snapshot_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace

struct Node::Parts {
  std::unique_ptr<StateLock> lock;
  std::unique_ptr<journal::Journal> journal;
  std::unique_ptr<forward::Forwarder> forwarder;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<pipeline::JournalArrivalSink> sink;
  std::unique_ptr<ingest::FolderWatcher> watcher;
  std::unique_ptr<ingest::StorageScp> scp;
  std::unique_ptr<StatusPublisher> status;
  std::unique_ptr<retention::Sweeper> sweeper;
};

Node::Node(config::NodeConfig config, std::vector<std::string> worker_command)
    : config_(std::move(config)), worker_command_(std::move(worker_command)) {}

Node::~Node() { stop(); }

Status Node::start() {
  if (parts_) return {};
  auto parts = std::make_unique<Parts>();
  const auto quarantine_dir = config_.quarantine ? config_.state_dir / "quarantine" : std::filesystem::path();
  for (const auto& folder : {config_.input_dir, config_.output_dir, config_.state_dir}) {
    if (Status made = fs::create_directories_durably(folder); !made) return made;
  }

  auto lock = StateLock::acquire(config_.state_dir);
  if (!lock) return lock.error();
  parts->lock = std::move(lock).value();

  auto journal = journal::Journal::open(config_.state_dir / "journal.db");
  if (!journal) return journal.error();
  parts->journal = std::move(journal).value();
  auto recovered = parts->journal->recover();
  if (!recovered) return recovered.error();
  const int leftovers = remove_interrupted_writes(config_.output_dir) + remove_interrupted_writes(config_.input_dir) +
                        remove_interrupted_writes(config_.state_dir / "spool") +
                        remove_unrecorded_receptions(*parts->journal, config_.state_dir / "spool");
  logger()->info("recovery: {} job(s) back to received, {} forward(s) now forward_unknown, {} unfinished file(s) removed",
                 recovered->processing_requeued, recovered->forwarding_unknown, leftovers);

  pipeline::PipelineOptions options;
  options.workers = worker_count(config_);
  options.worker_command = worker_command_;
  options.job_timeout = std::chrono::seconds(config_.processing.job_timeout_s);
  options.io_retry = std::chrono::seconds(config_.processing.io_retry_s);
  options.input_dir = config_.input_dir;
  options.output_dir = config_.output_dir;
  options.quarantine_dir = quarantine_dir;
  options.archive_dir = config_.state_dir / "archive";
  options.after_processing = config_.input.after_processing;
  options.gateways = config_.gateways;
  const auto own_input_files = std::make_shared<ingest::OwnInputFiles>();
  options.own_input_files = own_input_files;
  // Forwarding runs on its own threads, one per destination, so a slow or dead PACS never blocks processing.
  parts->forwarder = std::make_unique<forward::Forwarder>(*parts->journal, config_.destinations,
                                                          forward::dcmtk_sender_factory(config_.ae_title));
  if (Status started = parts->forwarder->start(); !started) return started;
  forward::Forwarder* forwarder = parts->forwarder.get();
  parts->pipeline = std::make_unique<pipeline::Pipeline>(options, *parts->journal, [forwarder] { forwarder->wake(); });
  if (Status started = parts->pipeline->start(); !started) return started;

  pipeline::Pipeline* pipeline = parts->pipeline.get();
  parts->sink = std::make_unique<pipeline::JournalArrivalSink>(*parts->journal, quarantine_dir, [pipeline] { pipeline->wake(); });

  // Both doors stop taking what cannot be kept when the state (spool, journal) or OUTPUT volume runs low.
  const auto low_water = config_.min_free_mb;
  const auto output_dir = config_.output_dir;
  const auto state_dir = config_.state_dir;
  const auto disk_low = [=] { return free_megabytes(output_dir) < low_water || free_megabytes(state_dir) < low_water; };

  if (config_.input.enabled) {
    ingest::FolderWatcherOptions watch;
    watch.input_root = config_.input_dir;
    for (const auto& gateway : config_.gateways) watch.gateway_ids.push_back(gateway.id);
    watch.discover_gateways = config_.input.discover_gateways;
    watch.settle_ms = config_.input.settle_ms;
    watch.stability_ms = config_.input.stability_ms;
    watch.rescan_interval_s = config_.input.rescan_interval_s;
    watch.own_files = own_input_files;
    parts->watcher = std::make_unique<ingest::FolderWatcher>(watch, *parts->sink, disk_low);
    if (Status started = parts->watcher->start(); !started) return started;
  }
  if (config_.scp.enabled) {
    parts->scp = std::make_unique<ingest::StorageScp>(ingest::storage_scp_options(config_), *parts->sink, disk_low);
    if (Status started = parts->scp->start(); !started) return started;
  }

  // Last to start, first to stop: the sweeper only ever removes what is finished.
  auto sweeper = retention::Sweeper::open(config_);
  if (!sweeper) return sweeper.error();
  parts->sweeper = std::move(sweeper).value();
  if (Status started = parts->sweeper->start(); !started) return started;

  const Parts* running = parts.get();
  const std::int64_t started = unix_time_ms();
  const int workers = worker_count(config_);
  parts->status = std::make_unique<StatusPublisher>(config_.state_dir / "node-status.json", [running, started, workers] {
    NodeStatus status;
    status.pid = ::getpid();
    status.started_ms = started;
    status.updated_ms = unix_time_ms();
    status.workers = workers;
    if (running->scp) {
      status.scp_port = running->scp->port();
      status.active_associations = running->scp->active_associations();
      status.images_received = static_cast<std::int64_t>(running->scp->images_stored());
    }
    if (running->watcher) status.files_taken = static_cast<std::int64_t>(running->watcher->files_handed_over());
    const auto counters = running->pipeline->stats();
    status.images_written = static_cast<std::int64_t>(counters.images_written);
    status.images_inferred = static_cast<std::int64_t>(counters.images_inferred);
    status.inference_us = static_cast<std::int64_t>(counters.inference_us);
    return status;
  });
  parts_ = std::move(parts);
  logger()->info("creni-node {} started: input {} output {} state {}, {} worker(s)", CRENI_VERSION,
                 config_.input_dir.string(), config_.output_dir.string(), config_.state_dir.string(), worker_count(config_));
  return {};
}

retention::RetentionStats Node::retention_stats() const {
  return parts_ && parts_->sweeper ? parts_->sweeper->stats() : retention::RetentionStats{};
}

void Node::stop() {
  if (!parts_) return;
  // Intake first, so nothing new is acknowledged; then the running jobs finish; the journal closes last.
  parts_->status.reset();
  if (parts_->sweeper) parts_->sweeper->stop();
  if (parts_->scp) parts_->scp->stop();
  if (parts_->watcher) parts_->watcher->stop();
  if (parts_->pipeline) parts_->pipeline->stop();
  if (parts_->forwarder) parts_->forwarder->stop();
  parts_.reset();
  logger()->info("creni-node stopped");
}

}  // namespace creni::app
