// Pipeline: recording a job's outcome in the journal (written, rejected, retried) and what follows a written
// result: the catalog rows, the input's disposal, metrics and the forwarder's wake-up.

#include <system_error>

#include "creni/common/clock.hpp"
#include "creni/common/crash_point.hpp"
#include "pipeline_detail.hpp"
#include "quarantine.hpp"
#include "series_member.hpp"

namespace creni::pipeline {

using detail::find_gateway;
using detail::logger;

namespace {

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

std::optional<journal::Job> Pipeline::record_oldest(std::deque<Committing>& committing, bool claim_next) {
  Committing oldest = std::move(committing.front());
  committing.pop_front();
  const Status durable = oldest.durable.get();
  return record_written(oldest.finished, durable, claim_next);
}

void Pipeline::record_all(std::deque<Committing>& committing) {
  while (!committing.empty()) (void)record_oldest(committing, /*claim_next=*/false);
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
    // has served its purpose (the folder door was told about the mirror when the worker answered).
    std::error_code ignored;
    std::filesystem::remove(job.input_path, ignored);
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
