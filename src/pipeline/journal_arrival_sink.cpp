#include "creni/pipeline/journal_arrival_sink.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "creni/common/clock.hpp"
#include "creni/common/content_hash.hpp"
#include "creni/common/owned_fd.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "creni/journal/journal.hpp"
#include "quarantine.hpp"

namespace creni::pipeline {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("ingest");
  return named ? named : spdlog::default_logger();
}

journal::Source source_of(ingest::ArrivalSource source) {
  return source == ingest::ArrivalSource::scp ? journal::Source::scp : journal::Source::folder;
}

// The journal row for an arrival before anything is read from its file.
journal::NewArrival row_for(const ingest::Arrival& arrival) {
  return journal::NewArrival{arrival.gateway_id, source_of(arrival.source), arrival.path, arrival.sop_instance_uid, "",
                             arrival.association};
}

ingest::AcceptResult outcome(ingest::AcceptOutcome kind, std::int64_t job_id, std::string reason = {},
                             std::string detail = {}) {
  return ingest::AcceptResult{kind, job_id, std::move(reason), std::move(detail)};
}

}  // namespace

JournalArrivalSink::JournalArrivalSink(journal::Journal& journal, std::filesystem::path quarantine_dir,
                                       std::function<void()> on_new_job)
    : journal_(journal), quarantine_dir_(std::move(quarantine_dir)), on_new_job_(std::move(on_new_job)) {}

ingest::AcceptResult JournalArrivalSink::accept(const ingest::Arrival& arrival) { return accept_all({arrival}).front(); }

std::vector<ingest::AcceptResult> JournalArrivalSink::accept_all(const std::vector<ingest::Arrival>& arrivals) {
  std::vector<ingest::AcceptResult> results(arrivals.size());
  try {
    // Everything that reads files happens before the journal transaction, which then only decides and writes.
    std::vector<journal::NewArrival> batch;
    std::vector<std::size_t> batch_index;
    for (std::size_t i = 0; i < arrivals.size(); ++i) {
      auto prepared = prepare(arrivals[i]);
      if (prepared) {
        batch.push_back(std::move(prepared).value());
        batch_index.push_back(i);
      } else {
        results[i] = refuse(arrivals[i], prepared.error());
      }
    }
    if (batch.empty()) return results;

    auto recorded = journal_.record_arrivals(batch);
    if (!recorded) {
      logger()->error("cannot record {} arrival(s): {}", batch.size(), recorded.error().describe());
      for (const std::size_t i : batch_index) {
        results[i] = outcome(ingest::AcceptOutcome::out_of_resources, 0, "journal_unavailable", recorded.error().describe());
      }
      return results;
    }
    bool new_work = false;
    for (std::size_t k = 0; k < batch.size(); ++k) {
      results[batch_index[k]] = decided(arrivals[batch_index[k]], batch[k], recorded.value()[k]);
      new_work = new_work || recorded.value()[k].outcome == journal::ArrivalOutcome::created;
    }
    if (new_work && on_new_job_) on_new_job_();
  } catch (const std::exception& e) {
    // The door must always get an answer it can act on; an unexpected failure is treated like a full disk.
    logger()->error("cannot accept {} arrival(s): {}", arrivals.size(), e.what());
    for (auto& result : results) {
      if (result.job_id == 0) result = outcome(ingest::AcceptOutcome::out_of_resources, 0, "internal_error", e.what());
    }
  }
  return results;
}

Result<journal::NewArrival> JournalArrivalSink::prepare(const ingest::Arrival& arrival) const {
  journal::NewArrival record = row_for(arrival);
  // One descriptor for everything read here, so that the meta header and the hash describe the same bytes; never
  // through a symbolic link, never blocking on a FIFO.
  const fs::OwnedFd fd(::open(arrival.path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ELOOP) return make_error("symlink", "symbolic links are never followed");
    if (errno == ENOENT) return make_error("vanished", "the file disappeared before it was taken");
    return make_error("io_error", "cannot open " + arrival.path.string() + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || !S_ISREG(info.st_mode)) {
    return make_error("not_regular", arrival.path.string() + " is not a regular file: never read");
  }
  // Only the meta header is read here; the data set is parsed by a worker process. The content hash covers the data
  // set alone: the meta header is rewritten by every sender and receiver (implementation UIDs, source AE), so
  // the same instance received through the SCP and dropped as a file hashes alike when encoded alike.
  auto meta = dicom::read_meta_identity(fd.get());
  auto hash = sha256_of(fd.get(), meta ? meta->dataset_offset : 0);
  if (!hash) return hash.error();
  record.content_hash = hash.value();
  if (record.sop_instance_uid.empty() && meta) record.sop_instance_uid = meta->media_storage_sop_instance_uid;
  return record;
}

ingest::AcceptResult JournalArrivalSink::refuse(const ingest::Arrival& arrival, const Error& why) {
  if (why.code != "symlink") return outcome(ingest::AcceptOutcome::rejected, 0, why.code, why.message);
  // A link could point anywhere (another gateway's images, /etc): never followed, recorded for the operator.
  auto rejected = journal_.record_rejected_arrival(row_for(arrival), why.code, why.message);
  if (!rejected) return outcome(ingest::AcceptOutcome::out_of_resources, 0, "journal_unavailable", rejected.error().describe());
  logger()->warn("gw={} job={} rejected: symlink {}", arrival.gateway_id, rejected.value(), arrival.path.string());
  return outcome(ingest::AcceptOutcome::rejected, rejected.value(), why.code, why.message);
}

ingest::AcceptResult JournalArrivalSink::decided(const ingest::Arrival& arrival, const journal::NewArrival& record,
                                                 const journal::RecordedArrival& recorded) const {
  const std::int64_t job = recorded.job_id;
  switch (recorded.outcome) {
    case journal::ArrivalOutcome::created:
      logger()->info("gw={} job={} sop={} received from {} {}", arrival.gateway_id, job, record.sop_instance_uid,
                     journal::to_string(record.source), arrival.path.string());
      return outcome(ingest::AcceptOutcome::accepted, job);
    case journal::ArrivalOutcome::same_file:
    case journal::ArrivalOutcome::duplicate:
      logger()->debug("gw={} job={} sop={} already known: {}", arrival.gateway_id, job, record.sop_instance_uid,
                      arrival.path.string());
      return outcome(ingest::AcceptOutcome::duplicate, job);
    case journal::ArrivalOutcome::conflict:
      logger()->warn("gw={} job={} sop={} rejected: conflict: {}", arrival.gateway_id, job, record.sop_instance_uid,
                     arrival.path.string());
      keep_in_quarantine(quarantine_dir_, arrival.gateway_id, job, arrival.path);
      return outcome(ingest::AcceptOutcome::conflict, job, "conflict", "SOP Instance UID already received with other content");
  }
  return outcome(ingest::AcceptOutcome::out_of_resources, 0, "internal_error", "unknown journal outcome");
}

void JournalArrivalSink::association_ended(const std::string& association) {
  try {
    if (Status recorded = journal_.record_association_ended(association, unix_time_ms()); !recorded) {
      // Only the release signal of its series is lost: idle and max_wait still complete them.
      logger()->warn("cannot record the end of association {}: {}", association, recorded.error().describe());
    }
  } catch (const std::exception& e) {
    logger()->warn("cannot record the end of association {}: {}", association, e.what());
  }
}

}  // namespace creni::pipeline
