#include "creni/pipeline/pipeline.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <future>
#include <optional>
#include <system_error>

#include "creni/common/atomic_file.hpp"
#include "creni/common/clock.hpp"
#include "creni/common/crash_point.hpp"
#include "creni/journal/journal.hpp"
#include "creni/pipeline/worker_process.hpp"
#include "creni/pipeline/worker_protocol.hpp"
#include "creni/pipeline/index_repair.hpp"
#include "quarantine.hpp"
#include "series_member.hpp"

namespace creni::pipeline {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

constexpr auto kIdleWait = std::chrono::milliseconds(500);
constexpr auto kWorkerRestartPause = std::chrono::seconds(1);

const config::GatewayConfig* find_gateway(const PipelineOptions& options, const std::string& id) {
  for (const auto& gateway : options.gateways) {
    if (gateway.id == id) return &gateway;
  }
  return nullptr;
}

void dispose_of_input(const PipelineOptions& options, const journal::Job& job) {
  std::error_code ec;
  switch (options.after_processing) {
    case config::InputDisposition::keep:
      return;
    case config::InputDisposition::remove:
      std::filesystem::remove(job.input_path, ec);
      break;
    case config::InputDisposition::archive: {
      const auto folder = options.archive_dir / ("gateway_" + job.gateway_id);
      std::filesystem::create_directories(folder, ec);
      std::filesystem::rename(job.input_path, folder / ("job-" + std::to_string(job.id)), ec);
      break;
    }
  }
  if (ec) logger()->warn("gw={} job={} cannot dispose of {}: {}", job.gateway_id, job.id, job.input_path.string(), ec.message());
}

void observe_written(metrics::PipelineMetrics& metrics, const journal::Job& job, long long worker_ms, std::int64_t inference_us) {
  metrics.step_took("worker", static_cast<double>(worker_ms) / 1000.0);
  if (inference_us > 0) metrics.step_took("infer", static_cast<double>(inference_us) / 1e6);
  metrics.written(job.gateway_id, static_cast<double>(unix_time_ms() - job.created_at_ms) / 1000.0);
}

}  // namespace

// One worker process and what it takes to (re)start it.
class WorkerSlot {
 public:
  WorkerSlot(const PipelineOptions& options, int index) : options_(options), index_(index) {}

  // The running worker, started (and READY) if necessary; nullptr when it cannot be started.
  WorkerProcess* ensure_running() {
    if (worker_) return worker_.get();
    auto spawned = WorkerProcess::spawn(options_.worker_command);
    if (!spawned) {
      logger()->error("worker {} cannot start: {}", index_, spawned.error().describe());
      return nullptr;
    }
    auto ready = spawned.value()->read_line(options_.worker_start_timeout);
    if (!ready || !decode_ready(ready.value()).ok()) {
      logger()->error("worker {} did not start: {}", index_, ready ? "bad READY line" : ready.error().describe());
      return nullptr;
    }
    worker_ = std::move(spawned).value();
    pid_ = static_cast<long>(worker_->pid());
    logger()->debug("worker {} started, pid {}", index_, worker_->pid());
    if (options_.metrics) options_.metrics->worker_started();
    return worker_.get();
  }

  /// The process id of the worker last started (still known after it died and was reaped), -1 before any.
  [[nodiscard]] long pid() const { return pid_; }

  std::string replace() {
    if (!worker_) return {};
    const std::string how = worker_->kill_and_reap();
    worker_.reset();
    if (options_.metrics) options_.metrics->worker_replaced();
    return how;
  }

 private:
  const PipelineOptions& options_;
  int index_;
  std::unique_ptr<WorkerProcess> worker_;
  long pid_ = -1;
};

struct Pipeline::InFlight {
  journal::Job job;
  JobRequest request;
  std::vector<std::string> destinations;
  WorkerProcess* worker = nullptr;
  std::chrono::steady_clock::time_point started;
  Status sent;
};

struct Pipeline::Finished {
  journal::Job job;
  JobRequest request;
  std::vector<std::string> destinations;
  JobReply reply;
  long long elapsed_ms = 0;
};

struct Pipeline::Committing {
  Finished finished;
  std::future<Status> durable;  // fsync, rename and folder fsyncs of the result, running while the worker works on
};

Pipeline::Pipeline(PipelineOptions options, journal::Journal& journal, std::function<void()> on_written)
    : options_(std::move(options)), journal_(journal), on_written_(std::move(on_written)) {}

Pipeline::~Pipeline() { stop(); }

Status Pipeline::start() {
  if (!threads_.empty()) return {};
  if (options_.worker_command.empty()) return make_error("invalid_config", "no worker command");
  stopping_.store(false);
  catalog_writer_ = std::make_unique<CatalogWriter>([this](const std::vector<std::int64_t>& job_ids) {
    if (Status recorded = journal_.mark_catalogued(job_ids); !recorded) {
      // The rows are in image.db; the next start adds them again (idempotently).
      logger()->warn("cannot record {} indexed job(s): {}", job_ids.size(), recorded.error().describe());
    }
  });
  queue_missing_index_rows(journal_, *catalog_writer_, options_);
  const int slots = std::max(1, options_.workers);
  slots_tried_ = 0;
  for (int slot = 0; slot < slots; ++slot) {
    threads_.emplace_back([this, slot] {
      const std::string name = "pipeline-" + std::to_string(slot);
      pthread_setname_np(pthread_self(), name.c_str());
      try {
        supervise(slot);
      } catch (const std::exception& e) {
        logger()->critical("{} stopped on an internal error: {}", name, e.what());
      } catch (...) {
        logger()->critical("{} stopped on an unknown internal error", name);
      }
    });
  }
  // The node says it has started once its workers are ready (or have failed to start, which is logged): work that
  // arrives right after start-up does not wait for a worker to boot.
  std::unique_lock lock(mutex_);
  work_available_.wait_for(lock, options_.worker_start_timeout, [&] { return slots_tried_ >= slots; });
  return {};
}

void Pipeline::stop() {
  stopping_.store(true);
  wake();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  if (catalog_writer_) catalog_writer_->stop();  // what is queued is written before the node exits
}

Pipeline::Stats Pipeline::stats() const {
  return Stats{images_written_.load(), images_inferred_.load(), inference_us_.load()};
}

void Pipeline::wake() {
  {
    const std::lock_guard lock(mutex_);
    ++wake_generation_;
  }
  work_available_.notify_all();
}

void Pipeline::supervise(int slot_index) {
  WorkerSlot slot(options_, slot_index);
  (void)slot.ensure_running();
  {
    const std::lock_guard lock(mutex_);
    ++slots_tried_;
  }
  work_available_.notify_all();

  // The slot keeps its worker busy while results are made durable and recorded. One claimed job waits in `next`
  // and is sent the moment the worker answers. Each answered result is made durable in the background while the
  // worker processes the job after, and recorded (together with the claim of the next job) one answer later: its
  // fsync, the journal commit of the result before it and the worker's next job all overlap.
  std::optional<journal::Job> next;    // claimed, not yet sent: processed even while stopping
  std::deque<Committing> committing;   // answered, being made durable, not yet recorded; oldest first, at most 2
  while (!stopping_.load() || next || !committing.empty()) {
    if (!next && committing.empty()) {
      // Workers start (and restart) before a job is claimed: a job never waits for a worker to boot, and one that
      // cannot start costs no attempt.
      if (slot.ensure_running() == nullptr) {
        std::unique_lock lock(mutex_);
        work_available_.wait_for(lock, kWorkerRestartPause, [&] { return stopping_.load(); });
        continue;
      }
      std::uint64_t generation = 0;
      {
        const std::lock_guard lock(mutex_);
        generation = wake_generation_;
      }
      // The claim is synced with the job's next record: no sync waits between an arrival and its worker.
      auto claimed = journal_.claim_next_unsynced(options_.max_attempts);
      if (!claimed || !claimed.value().has_value()) {
        if (!claimed) logger()->error("cannot claim a job: {}", claimed.error().describe());
        std::unique_lock lock(mutex_);
        work_available_.wait_for(lock, kIdleWait, [&] { return stopping_.load() || wake_generation_ != generation; });
        continue;
      }
      next = std::move(claimed).value();
    }

    std::optional<InFlight> in_flight;
    if (next) {
      WorkerProcess* worker = slot.ensure_running();
      if (worker == nullptr) {
        record_all(committing);
        if (stopping_.load()) {
          (void)journal_.return_to_received(next->id, "shutdown", "the node stopped before the job ran");
          break;
        }
        std::unique_lock lock(mutex_);
        work_available_.wait_for(lock, kWorkerRestartPause, [&] { return stopping_.load(); });
        continue;
      }
      in_flight = send_to(*worker, std::move(*next));
      next.reset();
    }
    if (!committing.empty() && (committing.size() >= 2 || !in_flight)) {
      next = record_oldest(committing, /*claim_next=*/!stopping_.load());
    } else if (in_flight && !stopping_.load()) {
      // The start of a run: claim the job after now, so that from here on one is always ready to go out the
      // moment the worker answers.
      auto claimed = journal_.claim_next_unsynced(options_.max_attempts);
      if (claimed) {
        next = std::move(claimed).value();
      } else {
        logger()->error("cannot claim a job: {}", claimed.error().describe());
      }
    }
    if (in_flight) {
      if (auto answered = await_answer(slot, *in_flight, committing)) {
        committing.push_back(commit_in_background(std::move(answered).value()));
      }
    }
  }
}

Pipeline::Committing Pipeline::commit_in_background(Finished finished) {
  // Copies: `finished` moves on into the Committing entry while this runs.
  JobReply paths;
  paths.staged_output = finished.reply.staged_output;
  paths.output = finished.reply.output;
  paths.mirrored_input = finished.reply.mirrored_input;
  auto commit = [this, job_id = finished.job.id, request = finished.request, reply = std::move(paths)]() -> Status {
    try {
      return commit_result(job_id, request, reply);
    } catch (const std::exception& e) {
      return make_error("io_error", std::string("cannot commit the result: ") + e.what());
    }
  };
  std::future<Status> durable;
  try {
    durable = std::async(std::launch::async, commit);
  } catch (const std::system_error&) {
    durable = std::async(std::launch::deferred, commit);  // no thread to spare: committed when it is recorded
  }
  return Committing{std::move(finished), std::move(durable)};
}

std::optional<journal::Job> Pipeline::record_oldest(std::deque<Committing>& committing, bool claim_next) {
  Committing oldest = std::move(committing.front());
  committing.pop_front();
  const Status durable = oldest.durable.get();
  return record_written(oldest.finished, durable, claim_next);
}

void Pipeline::record_all(std::deque<Committing>& committing) {
  while (!committing.empty()) (void)record_oldest(committing, /*claim_next=*/false);
}

Pipeline::InFlight Pipeline::send_to(WorkerProcess& worker, journal::Job job) {
  InFlight sent;
  const config::GatewayConfig* gateway = find_gateway(options_, job.gateway_id);
  sent.request.job_id = job.id;
  sent.request.gateway_id = job.gateway_id;
  sent.request.input = job.input_path;
  sent.request.output_root = output_folder_of(options_, job.gateway_id);
  sent.request.layout = gateway != nullptr ? gateway->output_layout : config::OutputLayout::nested;
  if (job.source == journal::Source::scp) sent.request.mirror_root = mirror_folder_of(options_, job.gateway_id);
  sent.request.expected_sop_instance_uid = job.sop_instance_uid;
  sent.request.expected_content_hash = job.content_hash;
  sent.destinations = gateway != nullptr ? gateway->destinations : std::vector<std::string>{};
  sent.job = std::move(job);
  sent.worker = &worker;
  sent.started = std::chrono::steady_clock::now();
  sent.sent = worker.send_line(encode_request(sent.request));
  return sent;
}

std::optional<Pipeline::Finished> Pipeline::await_answer(WorkerSlot& slot, InFlight& in_flight,
                                                        std::deque<Committing>& committing) {
  const journal::Job& job = in_flight.job;
  Result<std::string> answer = in_flight.sent.ok()
                                   ? in_flight.worker->read_line(options_.job_timeout)
                                   : Result<std::string>(make_error("worker_exited", "worker gone before the job"));
  const auto elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - in_flight.started).count();

  Result<JobReply> reply = answer ? decode_reply(answer.value()) : Result<JobReply>(answer.error());
  if (!reply || reply->job_id != job.id) {
    // The worker crashed, hung past the job timeout, or answered nonsense: it is replaced and the job goes back
    // to the queue; its attempt was already counted, so a job that kills workers ends as poison.
    const std::string why = reply ? "answer for another job" : reply.error().describe();
    const long worker_pid = slot.pid();
    const std::string how = slot.replace();
    // Earlier results of this worker may still lie under temporary names of its process id: committed first.
    record_all(committing);
    // A worker killed in the middle of a write leaves its temporary file behind; whatever delivers OUTPUT onward
    // must never see it. Only this worker's temporary files are removed (their names carry its process id).
    std::size_t debris = fs::remove_temp_files_of(in_flight.request.output_root, worker_pid, 1);
    if (!in_flight.request.mirror_root.empty()) debris += fs::remove_temp_files_of(in_flight.request.mirror_root, worker_pid, 1);
    if (debris > 0) logger()->warn("gw={} job={} removed {} temporary file(s) of the failed worker", job.gateway_id, job.id, debris);
    logger()->warn("gw={} job={} worker failed after {} ms: {} {}", job.gateway_id, job.id, elapsed_ms, why, how);
    (void)journal_.return_to_received(job.id, reply ? "protocol_error" : reply.error().code, why + " " + how);
    return std::nullopt;
  }

  if (!reply->ok && reply->reason == "io_error") {
    // The machine's fault (disk full, OUTPUT not writable), not the image's: the input is kept, the job waits and
    // runs again, so the node resumes on its own once the disk is fixed.
    logger()->warn("gw={} job={} not written, retrying in {} s: {}", job.gateway_id, job.id, options_.io_retry.count(),
                   reply->detail);
    if (Status deferred = journal_.defer(job.id, reply->reason, reply->detail, options_.io_retry); !deferred) {
      logger()->error("gw={} job={} cannot record the retry: {}", job.gateway_id, job.id, deferred.error().describe());
    }
    return std::nullopt;
  }
  if (!reply->ok) {
    reject(job, reply->reason, reply->detail);
    return std::nullopt;
  }
  return Finished{std::move(in_flight.job), std::move(in_flight.request), std::move(in_flight.destinations),
                  std::move(reply).value(), elapsed_ms};
}

void Pipeline::reject(const journal::Job& job, const std::string& reason, const std::string& detail) {
  logger()->warn("gw={} job={} rejected: {}: {}", job.gateway_id, job.id, reason, detail);
  if (Status recorded = journal_.mark_rejected(job.id, reason, detail); !recorded) {
    logger()->error("gw={} job={} cannot record rejection: {}", job.gateway_id, job.id, recorded.error().describe());
  }
  // An object ignored by policy ([processing] non_image = "ignore") is recorded, but nothing of it is kept.
  // Anything else rejected is kept once: a C-STORE's spool file moves into quarantine (the input path follows it).
  if (reason != "ignored") {
    keep_rejected_input(journal_, options_.quarantine_dir, job.gateway_id, job.id, job.input_path,
                        job.source == journal::Source::scp);
  }
}

std::optional<journal::Job> Pipeline::record_written(Finished& finished, const Status& durable, bool claim_next) {
  const journal::Job& job = finished.job;
  JobReply& reply = finished.reply;
  // Once recorded (or not to be recorded), the journal says whose result this name is.
  struct ClaimRelease {
    OutputClaims& claims;
    const std::filesystem::path output;
    std::int64_t job_id;
    ~ClaimRelease() { claims.release(output, job_id); }
  } const release{output_claims_, reply.output, job.id};
  if (!durable && durable.error().code == "output_conflict") {
    reject(job, durable.error().code, durable.error().message);
    return std::nullopt;
  }
  if (!durable) {
    // Like a worker's io_error: the disk's fault, not the image's; the job runs again after a pause.
    logger()->error("gw={} job={} result not durable, retrying in {} s: {}", job.gateway_id, job.id,
                    options_.io_retry.count(), durable.error().describe());
    if (Status deferred = journal_.defer(job.id, "io_error", durable.error().describe(), options_.io_retry); !deferred) {
      logger()->error("gw={} job={} cannot record the retry: {}", job.gateway_id, job.id, deferred.error().describe());
    }
    return std::nullopt;
  }
  crash_point("result_committed_before_recorded");
  // The result and the next claim share one journal commit; when stopping, nothing new is claimed. Where series
  // are tracked, the instance joins its series in that same commit.
  const config::GatewayConfig* gateway = find_gateway(options_, job.gateway_id);
  const config::SeriesConfig& series = gateway != nullptr ? gateway->series : options_.series_defaults;
  std::optional<journal::SeriesMember> member;
  if (series.enabled) member = series_member_of(reply, series.late);
  const journal::SeriesMember* in_series = member ? &*member : nullptr;
  std::optional<journal::Job> next;
  Status recorded;
  if (claim_next) {
    auto written_and_next = journal_.mark_written_and_claim_next(job.id, reply.output, reply.result.sop_instance_uid,
                                                                 finished.destinations, reply.mirrored_input,
                                                                 options_.max_attempts, in_series);
    if (written_and_next) {
      next = std::move(written_and_next).value();
    } else {
      recorded = written_and_next.error();
    }
  } else {
    recorded = journal_.mark_written(job.id, reply.output, reply.result.sop_instance_uid, finished.destinations,
                                     reply.mirrored_input, in_series);
  }
  if (!recorded) {
    logger()->error("gw={} job={} cannot record result: {}", job.gateway_id, job.id, recorded.error().describe());
    return next;
  }
  if (!reply.mirrored_input.empty() && reply.mirrored_input != job.input_path) {
    // The received file now lies in INPUT like a gateway's drop, and the journal points there: the spool copy
    // has served its purpose, and the folder door need not read the mirror again.
    std::error_code ignored;
    std::filesystem::remove(job.input_path, ignored);
    if (options_.own_input_files) options_.own_input_files->add(reply.mirrored_input);
  }
  images_written_.fetch_add(1);
  if (reply.inference_us > 0) {
    images_inferred_.fetch_add(1);
    inference_us_.fetch_add(static_cast<std::uint64_t>(reply.inference_us));
  }
  std::vector<CatalogEntry> rows{CatalogEntry{finished.request.output_root, std::move(reply.catalog_entry)}};
  if (!reply.mirrored_input.empty()) {
    rows.push_back(CatalogEntry{finished.request.mirror_root, std::move(reply.mirror_catalog_entry)});
  }
  catalog_writer_->add(job.id, std::move(rows));
  logger()->info("gw={} job={} sop={} written {} ({} ms)", job.gateway_id, job.id, reply.source.sop_instance_uid,
                 reply.output.string(), finished.elapsed_ms);
  if (options_.metrics) observe_written(*options_.metrics, job, finished.elapsed_ms, reply.inference_us);
  if (job.source == journal::Source::folder) dispose_of_input(options_, job);
  if (on_written_ && !finished.destinations.empty()) on_written_();
  return next;
}

}  // namespace creni::pipeline
