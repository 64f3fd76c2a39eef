#include "creni/app/node.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "creni/common/free_space.hpp"
#include "creni/app/counting_arrival_sink.hpp"
#include "creni/app/node_metrics.hpp"
#include "creni/app/node_status.hpp"
#include "creni/config/folder_layout.hpp"
#include "creni/common/clock.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/forward/dcmtk_pacs_sender.hpp"
#include "creni/forward/forwarder.hpp"
#include "creni/http/http_server.hpp"
#include "creni/ingest/folder_watcher.hpp"
#include "creni/ingest/spooled_arrival.hpp"
#include "creni/ingest/storage_scp.hpp"
#include "creni/journal/journal.hpp"
#include "creni/pipeline/journal_arrival_sink.hpp"
#include "creni/pipeline/pipeline.hpp"
#include "folder_lock.hpp"
#include "contained_identity.hpp"
#include "journal_watch.hpp"
#include "status_publisher.hpp"
#include "creni/series/series_tracker.hpp"
#include "creni/metrics/retention_metrics.hpp"
#include "creni/retention/capacity_check.hpp"
#include "creni/retention/sweeper.hpp"

namespace creni::app {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("node");
  return named ? named : spdlog::default_logger();
}

int worker_count(const config::NodeConfig& config) {
  if (config.workers > 0) return config.workers;
  return std::max(1U, std::thread::hardware_concurrency());
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

// Spool files the journal has no row for. The SCP syncs an image together with its arrival record (in the file's
// preamble) and acknowledges it once the journal row is committed, without a sync of its own: a crash between the
// two, or a power cut that took the unsynced commit, leaves a file whose record checks out. It may have been
// acknowledged, so it is recorded now (a resend then is a duplicate). Any other file was never acknowledged: cut
// short, empty (a spool pool file never used) or without a record; its sender still owns it and will send it
// again, so it is removed. Returns how many were recorded and how many non-empty files were removed.
std::pair<int, int> recover_unrecorded_receptions(journal::Journal& journal, ingest::ArrivalSink& sink,
                                                  const std::filesystem::path& spool) {
  int recorded = 0;
  int removed = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(spool, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    if (it->path().extension() != ".dcm") continue;
    auto known = journal.has_job_for_input(it->path());
    if (!known || known.value()) continue;
    if (const auto arrival = ingest::recover_spooled_arrival(it->path())) {
      const ingest::AcceptResult result = sink.accept(*arrival);
      if (result.outcome == ingest::AcceptOutcome::accepted) {
        logger()->warn("recovery: gw={} job={} sop={} recorded from its spool file {}", arrival->gateway_id,
                       result.job_id, arrival->sop_instance_uid, it->path().string());
        ++recorded;
        continue;
      }
      if (result.outcome == ingest::AcceptOutcome::out_of_resources) continue;  // kept for the next start
    }
    std::error_code removal;
    const bool had_bytes = std::filesystem::file_size(it->path(), removal) > 0 && !removal;
    if (std::filesystem::remove(it->path(), removal) && had_bytes) ++removed;
  }
  return {recorded, removed};
}

}  // namespace

struct Node::Parts {
  // Declared first, destroyed last: every handle and the HTTP server refer to it.
  std::unique_ptr<metrics::Registry> registry = std::make_unique<metrics::Registry>();
  NodeMetrics metrics{*registry};
  std::unique_ptr<FolderLock> state_lock;
  std::vector<std::unique_ptr<FolderLock>> input_locks;
  std::unique_ptr<journal::Journal> journal;
  std::unique_ptr<forward::Forwarder> forwarder;
  std::unique_ptr<pipeline::Pipeline> pipeline;
  std::unique_ptr<series::SeriesTracker> series;
  std::unique_ptr<pipeline::JournalArrivalSink> sink;
  std::unique_ptr<CountingArrivalSink> counted_sink;
  std::unique_ptr<ingest::FolderWatcher> watcher;
  std::unique_ptr<ingest::StorageScp> scp;
  std::unique_ptr<StatusPublisher> status;
  std::unique_ptr<http::HttpServer> http;
  std::unique_ptr<JournalWatch> journal_watch;
  std::unique_ptr<retention::Sweeper> sweeper;
};

Node::Node(config::NodeConfig config, std::vector<std::string> worker_command)
    : config_(std::move(config)), worker_command_(std::move(worker_command)) {}

Node::~Node() { stop(); }

Status Node::start() {
  if (parts_) return {};
  auto parts = std::make_unique<Parts>();
  const auto quarantine_dir = config_.quarantine ? config_.state_dir / "quarantine" : std::filesystem::path();
  // Checked before anything is created: OUTPUT or state inside INPUT would feed the node its own files.
  if (Status apart = config::check_folders_apart(config_.input_dir, config_.output_dir, config_.state_dir); !apart) {
    return apart;
  }
  for (const auto& folder : {config_.input_dir, config_.output_dir, config_.state_dir}) {
    if (Status made = fs::create_directories_durably(folder); !made) return made;
  }

  std::string http_token;
  if (config_.http.enabled && !config_.http.token_file.empty()) {
    auto token = config::read_http_token(config_.http.token_file);
    if (!token) return token.error();
    http_token = std::move(token).value();
  }

  // Two nodes must never share the journal nor take the same files (with separate journals, both would process and
  // forward everything twice). A node that discovers gateways takes all of INPUT: it locks INPUT exclusively. A
  // node with a fixed list (shards sharing INPUT) locks INPUT shared and each of its gateway folders exclusively,
  // so shards with disjoint gateways run side by side and two nodes on one gateway do not.
  auto state_lock = FolderLock::acquire(config_.state_dir, "lock", "state folder");
  if (!state_lock) return state_lock.error();
  parts->state_lock = std::move(state_lock).value();
  const bool takes_all = config_.input.discover_gateways;
  auto input_lock = FolderLock::acquire(config_.input_dir, "", "input folder", /*shared=*/!takes_all);
  if (!input_lock) return input_lock.error();
  parts->input_locks.push_back(std::move(input_lock).value());
  for (const auto& gateway : takes_all ? std::vector<config::GatewayConfig>{} : config_.gateways) {
    const auto folder = config_.input_dir / ("gateway_" + gateway.id);
    if (Status made = fs::create_directories_durably(folder); !made) return made;
    auto gateway_lock = FolderLock::acquire(folder, "", "input folder");
    if (!gateway_lock) return gateway_lock.error();
    parts->input_locks.push_back(std::move(gateway_lock).value());
  }

  auto journal = journal::Journal::open(config_.state_dir / "journal.db");
  if (!journal) return journal.error();
  parts->journal = std::move(journal).value();
  // A journal deleted or replaced under the running node stops it (SIGTERM to itself, so that the main thread stops
  // everything in order and `run` exits with the reason, see failure()).
  parts->journal_watch = std::make_unique<JournalWatch>(*parts->journal, std::chrono::seconds(1),
                                                        [] { ::kill(::getpid(), SIGTERM); });
  auto recovered = parts->journal->recover();
  if (!recovered) return recovered.error();
  const int leftovers = remove_interrupted_writes(config_.output_dir) + remove_interrupted_writes(config_.input_dir) +
                        remove_interrupted_writes(config_.state_dir / "spool");
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
  options.series_defaults = config_.series;
  const auto own_input_files = std::make_shared<ingest::OwnInputFiles>();
  options.own_input_files = own_input_files;
  options.metrics = parts->metrics.pipeline;
  // Forwarding runs on its own threads, one per destination, so a slow or dead PACS never blocks processing.
  parts->forwarder = std::make_unique<forward::Forwarder>(*parts->journal, config_.destinations,
                                                          forward::dcmtk_sender_factory(config_.ae_title),
                                                          std::chrono::seconds(1), parts->metrics.forward);
  if (Status started = parts->forwarder->start(); !started) return started;
  forward::Forwarder* forwarder = parts->forwarder.get();
  parts->pipeline = std::make_unique<pipeline::Pipeline>(options, *parts->journal, [forwarder] { forwarder->wake(); });
  if (Status started = parts->pipeline->start(); !started) return started;

  // Series are tracked where a [series] table applies; their reports are forwarded like any result.
  const bool series_tracked = config_.series.enabled || std::any_of(config_.gateways.begin(), config_.gateways.end(),
                                                                    [](const auto& g) { return g.series.enabled; });
  if (series_tracked) {
    parts->series = std::make_unique<series::SeriesTracker>(config_, *parts->journal, worker_command_.front(),
                                                           [forwarder] { forwarder->wake(); });
    if (Status started = parts->series->start(); !started) return started;
  }

  pipeline::Pipeline* pipeline = parts->pipeline.get();
  // The same SOP instance with other bytes is compared by content in a contained process: the node itself never
  // parses a data set (DESIGN.md). Bounded like a worker, so a sender is answered within its DIMSE timeout.
  auto canonical_identity = contained_canonical_identity(
      worker_command_.front(), config_.processing.worker_memory_mb * 1024 * 1024,
      std::chrono::seconds(std::min(config_.processing.job_timeout_s, 20)));
  parts->sink = std::make_unique<pipeline::JournalArrivalSink>(*parts->journal, quarantine_dir,
                                                               [pipeline] { pipeline->wake(); },
                                                               std::move(canonical_identity),
                                                               [this](const std::string& gateway_id) {
                                                                 return config_.non_image_for(gateway_id);
                                                               });
  parts->counted_sink = std::make_unique<CountingArrivalSink>(*parts->sink, *parts->metrics.arrivals);
  const auto [spool_recorded, spool_removed] =
      recover_unrecorded_receptions(*parts->journal, *parts->sink, config_.state_dir / "spool");
  if (spool_recorded + spool_removed > 0) {
    logger()->info("recovery: {} spool file(s) recorded from their arrival record, {} unfinished spool file(s) removed",
                   spool_recorded, spool_removed);
  }

  // Both doors stop taking what cannot be kept when the state (spool, journal) or OUTPUT volume runs low.
  const auto low_water = config_.min_free_mb;
  const auto output_dir = config_.output_dir;
  const auto state_dir = config_.state_dir;
  const auto disk_low = [=] { return fs::free_megabytes(output_dir) < low_water || fs::free_megabytes(state_dir) < low_water; };

  if (config_.input.enabled) {
    ingest::FolderWatcherOptions watch;
    watch.input_root = config_.input_dir;
    for (const auto& gateway : config_.gateways) watch.gateway_ids.push_back(gateway.id);
    watch.discover_gateways = config_.input.discover_gateways;
    watch.settle_ms = config_.input.settle_ms;
    watch.stability_ms = config_.input.stability_ms;
    watch.rescan_interval_s = config_.input.rescan_interval_s;
    watch.own_files = own_input_files;
    parts->watcher = std::make_unique<ingest::FolderWatcher>(watch, *parts->counted_sink, disk_low);
    if (Status started = parts->watcher->start(); !started) return started;
  }
  if (config_.scp.enabled) {
    auto scp_options = ingest::storage_scp_options(config_);
    scp_options.metrics = parts->metrics.scp;
    parts->scp = std::make_unique<ingest::StorageScp>(scp_options, *parts->counted_sink, disk_low);
    if (Status started = parts->scp->start(); !started) return started;
  }

  // Caps that the watermark would pre-empt are a configuration mistake worth a warning, not a refusal to start.
  for (const auto& warning : retention::capacity_warnings(config_)) logger()->warn("{}", warning);
  // Last to start, first to stop: the sweeper only ever removes what is finished.
  auto sweeper = retention::Sweeper::open(config_);
  if (!sweeper) return sweeper.error();
  parts->sweeper = std::move(sweeper).value();
  if (Status started = parts->sweeper->start(); !started) return started;

  const Parts* running = parts.get();
  const std::int64_t started = unix_time_ms();
  const int workers = worker_count(config_);
  const std::function<NodeStatus()> snapshot = [running, started, workers] {
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
    if (running->watcher) {
      status.files_taken = static_cast<std::int64_t>(running->watcher->files_handed_over());
      status.files_not_taken = static_cast<std::int64_t>(running->watcher->files_not_taken().total());
    }
    const auto counters = running->pipeline->stats();
    status.images_written = static_cast<std::int64_t>(counters.images_written);
    status.images_inferred = static_cast<std::int64_t>(counters.images_inferred);
    status.inference_us = static_cast<std::int64_t>(counters.inference_us);
    return status;
  };
  parts->status = std::make_unique<StatusPublisher>(config_.state_dir / "node-status.json", snapshot);
  parts->registry->add_collector([running, config = config_] { return node_families(config, running->scp.get()); });
  parts->registry->add_collector(
      [running] { return metrics::retention_families(running->sweeper->stats(), unix_time_ms()); });

  if (config_.http.enabled) {
    auto address = config::parse_listen_address(config_.http.listen);
    if (!address) return address.error();
    http::HttpServerOptions http_options;
    http_options.host = address->host;
    http_options.port = address->port;
    http_options.token = http_token;
    http_options.journal_file = config_.state_dir / "journal.db";
    http_options.readiness = [running, config = config_, disk_low] {
      return readiness(config, running->journal != nullptr, running->scp.get(), *running->metrics.pipeline, disk_low());
    };
    http_options.node_status = [snapshot] { return to_document(snapshot()); };
    http_options.jobs_changed = [running] {
      running->pipeline->wake();
      running->forwarder->wake();
    };
    parts->http = std::make_unique<http::HttpServer>(std::move(http_options), *parts->registry);
    if (Status listening = parts->http->start(); !listening) return listening;
  }
  parts_ = std::move(parts);
  logger()->info("creni-node {} started: input {} output {} state {}, {} worker(s)", CRENI_VERSION,
                 config_.input_dir.string(), config_.output_dir.string(), config_.state_dir.string(), worker_count(config_));
  return {};
}

std::optional<Error> Node::failure() const {
  if (!parts_ || !parts_->journal_watch) return failure_;
  auto journal_failure = parts_->journal_watch->failure();
  return journal_failure ? journal_failure : failure_;
}

retention::RetentionStats Node::retention_stats() const {
  return parts_ && parts_->sweeper ? parts_->sweeper->stats() : retention::RetentionStats{};
}

void Node::stop() {
  if (!parts_) return;
  if (parts_->journal_watch) failure_ = parts_->journal_watch->failure();
  parts_->journal_watch.reset();
  // Intake first, so nothing new is acknowledged; then the running jobs finish; the journal closes last.
  if (parts_->http) parts_->http->stop();
  parts_->status.reset();
  if (parts_->sweeper) parts_->sweeper->stop();
  if (parts_->scp) parts_->scp->stop();
  if (parts_->watcher) parts_->watcher->stop();
  if (parts_->pipeline) parts_->pipeline->stop();
  if (parts_->series) parts_->series->stop();
  if (parts_->forwarder) parts_->forwarder->stop();
  parts_.reset();
  logger()->info("creni-node stopped");
}

}  // namespace creni::app
