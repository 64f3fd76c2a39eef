// Pipeline: making a worker's result durable and visible under its final name, and never under another job's.
#include "creni/pipeline/pipeline.hpp"

#include <sys/stat.h>

#include <future>
#include <system_error>

#include "creni/common/crash_point.hpp"
#include "creni/journal/journal.hpp"
#include "creni/output/output_writer.hpp"
#include "pipeline_detail.hpp"

namespace creni::pipeline {

namespace {

// Whether the worker copied the spool file into INPUT (across file systems) rather than linking it.
bool is_copy(const std::filesystem::path& mirror, const journal::Job& job) {
  struct stat there {};
  struct stat spool {};
  if (::stat(mirror.c_str(), &there) != 0 || ::stat(job.input_path.c_str(), &spool) != 0) return false;
  return there.st_dev != spool.st_dev || there.st_ino != spool.st_ino;
}

}  // namespace

Pipeline::Committing Pipeline::commit_in_background(Finished finished) {
  const std::filesystem::path& mirror = finished.reply.mirrored_input;
  if (options_.own_input_files && !mirror.empty() && mirror != finished.job.input_path && is_copy(mirror, finished.job)) {
    // A mirror copied across file systems was not expected by its inode (expect_mirror): told now, before the
    // commit's syncs, since the folder door takes a new file a moment after it is closed.
    options_.own_input_files->add(mirror);
  }
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

Status Pipeline::commit_result(std::int64_t job_id, const JobRequest& request, const JobReply& reply) {
  // The worker wrote the result next to its final name and went on with the next job; the fsync, the rename and
  // the folder fsyncs happen here, all before the journal says `written` (and before it points at the mirror).
  crash_point("result_answered_before_commit");
  if (!reply.staged_output.empty()) {
    if (Status committed = commit_output(job_id, request, reply); !committed) return committed;
  }
  if (Status synced = folder_syncer_.sync(reply.output.parent_path()); !synced) return synced;
  if (!reply.mirrored_input.empty()) return folder_syncer_.sync(reply.mirrored_input.parent_path());
  return {};
}

Status Pipeline::commit_output(std::int64_t job_id, const JobRequest& request, const JobReply& reply) {
  // The result's name comes from the source's SOP Instance UID: another job's result under the same name means
  // another source claiming the same instance. The first result stays; the second job is rejected.
  const output::OutputWriter writer(request.output_root, request.layout);
  const output::StagedOutput staged{reply.staged_output, reply.output};
  if (const auto holder = output_claims_.claim(reply.output, job_id)) {
    writer.discard(staged);
    return make_error("output_conflict", reply.output.string() + " is being written by job " + std::to_string(*holder) +
                                             " from another source with the same SOP Instance UID; kept");
  }
  Status committed = writer.commit(staged, fs::Replace::never);
  if (committed || committed.error().code != "exists") return committed;
  auto owner = journal_.other_job_with_output(reply.output, job_id);
  if (!owner || owner.value()) {
    writer.discard(staged);
    if (!owner) return make_error("io_error", "cannot tell whose result " + reply.output.string() + " is: " +
                                                  owner.error().describe());
    return make_error("output_conflict", reply.output.string() + " is the result of job " +
                                             std::to_string(*owner.value()) +
                                             " from another source with the same SOP Instance UID; kept");
  }
  // No other job has this result: it is this job's own, committed before a crash hid it from the journal, or its
  // result before an operator's reprocess. Processing is deterministic, so it is replaced by the same image.
  return writer.commit(staged, fs::Replace::allowed);
}

}  // namespace creni::pipeline
