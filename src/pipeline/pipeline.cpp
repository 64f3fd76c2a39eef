// Pipeline: the supervising threads, one per worker slot, and the loop that keeps each slot's worker busy.
#include "creni/pipeline/pipeline.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <deque>
#include <optional>

#include "creni/journal/journal.hpp"
#include "creni/pipeline/index_repair.hpp"
#include "pipeline_detail.hpp"
#include "worker_slot.hpp"

namespace creni::pipeline {

std::shared_ptr<spdlog::logger> detail::logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

const config::GatewayConfig* detail::find_gateway(const PipelineOptions& options, const std::string& id) {
  for (const auto& gateway : options.gateways) {
    if (gateway.id == id) return &gateway;
  }
  return nullptr;
}

using detail::logger;

namespace {

constexpr auto kIdleWait = std::chrono::milliseconds(500);
constexpr auto kWorkerRestartPause = std::chrono::seconds(1);

}  // namespace

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

}  // namespace creni::pipeline
