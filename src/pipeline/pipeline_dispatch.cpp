// Pipeline: a claimed job to a worker, and what the worker's answer (or its silence) means for the job.

#include <sys/stat.h>

#include <chrono>

#include "creni/common/atomic_file.hpp"
#include "creni/pipeline/index_repair.hpp"
#include "pipeline_detail.hpp"
#include "worker_slot.hpp"

namespace creni::pipeline {

using detail::find_gateway;
using detail::logger;

Pipeline::InFlight Pipeline::send_to(WorkerProcess& worker, journal::Job job) {
  InFlight sent;
  const config::GatewayConfig* gateway = find_gateway(options_, job.gateway_id);
  sent.request.job_id = job.id;
  sent.request.gateway_id = job.gateway_id;
  sent.request.input = job.input_path;
  sent.request.output_root = output_folder_of(options_, job.gateway_id);
  sent.request.layout = gateway != nullptr ? gateway->output_layout : config::OutputLayout::nested;
  if (job.source == journal::Source::scp) {
    sent.request.mirror_root = mirror_folder_of(options_, job.gateway_id);
    expect_mirror(sent.request.mirror_root, job);
  }
  sent.request.expected_sop_instance_uid = job.sop_instance_uid;
  sent.request.expected_content_hash = job.content_hash;
  sent.destinations = gateway != nullptr ? gateway->destinations : std::vector<std::string>{};
  sent.job = std::move(job);
  sent.worker = &worker;
  sent.started = std::chrono::steady_clock::now();
  sent.sent = worker.send_line(encode_request(sent.request));
  return sent;
}

void Pipeline::expect_mirror(const std::filesystem::path& mirror_root, const journal::Job& job) const {
  // Before the job goes out: the worker links the spool file into INPUT after processing it, and the folder door,
  // which takes a new link within settle_ms, must know the link by then or it hashes and records it again.
  struct stat spool {};
  if (!options_.own_input_files || ::stat(job.input_path.c_str(), &spool) != 0) return;
  ingest::OwnInputFiles::FileIdentity identity;
  identity.device = static_cast<std::uint64_t>(spool.st_dev);
  identity.inode = static_cast<std::uint64_t>(spool.st_ino);
  options_.own_input_files->expect(mirror_root, job.sop_instance_uid, identity);
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

}  // namespace creni::pipeline
