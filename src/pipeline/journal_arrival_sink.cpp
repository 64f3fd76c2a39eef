#include "creni/pipeline/journal_arrival_sink.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "creni/common/clock.hpp"
#include "creni/common/content_hash.hpp"
#include "creni/common/directory.hpp"
#include "creni/dicom/image_storage_classes.hpp"
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
  journal::NewArrival row{arrival.gateway_id, source_of(arrival.source), arrival.path, arrival.sop_instance_uid, "", "",
                          ""};
  row.association = arrival.association;
  return row;
}

// The C-STORE Error Comment (LO, 64 characters at most) of a conflict.
constexpr const char* kConflictComment = "SOP Instance UID already received with other content";

ingest::AcceptResult outcome(ingest::AcceptOutcome kind, std::int64_t job_id, std::string reason = {},
                             std::string detail = {}) {
  return ingest::AcceptResult{kind, job_id, std::move(reason), std::move(detail)};
}

}  // namespace

JournalArrivalSink::JournalArrivalSink(journal::Journal& journal, std::filesystem::path quarantine_dir,
                                       std::function<void()> on_new_job, CanonicalIdentity canonical_identity,
                                       NonImagePolicyOf non_image_policy)
    : journal_(journal),
      quarantine_dir_(std::move(quarantine_dir)),
      on_new_job_(std::move(on_new_job)),
      canonical_identity_(std::move(canonical_identity)),
      non_image_policy_(std::move(non_image_policy)) {}

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
        add_canonical_identity(prepared.value());
        batch.push_back(std::move(prepared).value());
        batch_index.push_back(i);
      } else {
        results[i] = refuse(arrivals[i], prepared.error());
      }
    }
    if (batch.empty()) return results;

    // No sync of the journal is needed where the arrival is durable without it: a file of the folder door stays in
    // INPUT until its result is recorded (synced), and an SCP spool file carries its own synced arrival record (see
    // Journal::record_arrivals_unsynced). One arrival without either, and the whole batch is synced.
    const bool durable_without_sync = std::all_of(batch.begin(), batch.end(), [&](const journal::NewArrival& row) {
      return row.source == journal::Source::folder;
    }) || std::all_of(batch_index.begin(), batch_index.end(), [&](std::size_t i) { return arrivals[i].recoverable; });
    auto recorded = durable_without_sync ? journal_.record_arrivals_unsynced(batch) : journal_.record_arrivals(batch);
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
  // One descriptor for everything read here, so that the meta header and the hash describe the same bytes.
  auto fd = fs::open_regular_file(arrival.path);
  if (!fd) return fd.error();
  // Only the meta header is read here; the data set is parsed by a worker process. The content hash covers the data
  // set alone: the meta header is rewritten by every sender and receiver (implementation UIDs, source AE), so
  // the same instance received through the SCP and dropped as a file hashes alike when encoded alike.
  auto meta = dicom::read_meta_identity(fd->get());
  if (meta) {
    if (Status image = check_is_image(arrival, fd->get(), meta.value()); !image) return image.error();
  }
  if (!arrival.content_hash.empty() && meta) {
    // The door hashed the data set as it stored it: the same bytes need not be read again.
    record.content_hash = arrival.content_hash;
  } else {
    auto hash = sha256_of(fd->get(), meta ? meta->dataset_offset : 0);
    if (!hash) return hash.error();
    record.content_hash = hash.value();
  }
  if (record.sop_instance_uid.empty() && meta) record.sop_instance_uid = meta->media_storage_sop_instance_uid;
  return record;
}

void JournalArrivalSink::add_canonical_identity(journal::NewArrival& record) const {
  if (!canonical_identity_ || record.sop_instance_uid.empty()) return;
  auto existing = journal_.find_instance(record.gateway_id, record.sop_instance_uid);
  if (!existing || !existing->has_value() || existing->value().content_hash == record.content_hash) return;
  const journal::Job& known = existing->value();
  if (known.canonical_hash.empty()) {
    auto computed = canonical_identity_(known.input_path);
    if (!computed) {
      // Without the first one's identity the two cannot be shown to be the same: a conflict, as before.
      logger()->warn("gw={} job={} sop={} canonical identity not available: {}", known.gateway_id, known.id,
                     known.sop_instance_uid, computed.error().describe());
      return;
    }
    if (Status stored = journal_.set_canonical_hash(known.id, computed.value()); !stored) {
      logger()->warn("gw={} job={} cannot store the canonical identity: {}", known.gateway_id, known.id,
                     stored.error().describe());
    }
  }
  auto mine = canonical_identity_(record.input_path);
  if (!mine) {
    logger()->warn("gw={} sop={} canonical identity of {} not available: {}", record.gateway_id,
                   record.sop_instance_uid, record.input_path.string(), mine.error().describe());
    return;
  }
  record.canonical_hash = mine.value();
}

Status JournalArrivalSink::check_is_image(const ingest::Arrival& arrival, int fd,
                                          const dicom::MetaIdentity& meta) const {
  if (!non_image_policy_ || non_image_policy_(arrival.gateway_id) != config::NonImagePolicy::reject) return {};
  const std::string& sop_class =
      arrival.sop_class_uid.empty() ? meta.media_storage_sop_class_uid : arrival.sop_class_uid;
  switch (dicom::storage_object_kind(sop_class)) {
    case dicom::StorageObjectKind::image:
      return {};
    case dicom::StorageObjectKind::non_image:
      return make_error("not_an_image", "not an image: SOP Class " + sop_class);
    case dicom::StorageObjectKind::unknown:
      break;
  }
  const auto pixels = dicom::has_pixel_data(fd, meta);
  if (!pixels) {
    // A data set this walk cannot tell (deflated, malformed) is a worker's to judge, like any other content.
    logger()->debug("gw={} sop={} pixel data not looked for: {}", arrival.gateway_id, arrival.sop_instance_uid,
                    pixels.error().describe());
    return {};
  }
  if (pixels.value()) return {};
  return make_error("not_an_image", "no Pixel Data: SOP Class " + sop_class);
}

ingest::AcceptResult JournalArrivalSink::refuse(const ingest::Arrival& arrival, const Error& why) {
  // A link could point anywhere (another gateway's images, /etc): never followed, recorded for the operator. A file
  // that vanished between being seen and being taken is recorded too, so that its loss is never silent. Other
  // refusals (unreadable, not a regular file) may be fixed in place: the door reports them without a job.
  // An object that is not an image is recorded too, and kept once like any rejected input.
  const bool not_an_image = why.code == "not_an_image";
  if (why.code != "symlink" && why.code != "input_vanished" && !not_an_image) {
    return outcome(ingest::AcceptOutcome::rejected, 0, why.code, why.message);
  }
  journal::NewArrival row = row_for(arrival);
  if (not_an_image && row.sop_instance_uid.empty()) {
    // The folder door has no command: the meta header names the instance, so that status can show which it was.
    if (auto meta = dicom::read_meta_identity(arrival.path)) row.sop_instance_uid = meta->media_storage_sop_instance_uid;
  }
  auto rejected = journal_.record_rejected_arrival(row, why.code, why.message);
  if (!rejected) return outcome(ingest::AcceptOutcome::out_of_resources, 0, "journal_unavailable", rejected.error().describe());
  logger()->warn("gw={} job={} sop={} rejected: {} ({}) {}", arrival.gateway_id, rejected.value(),
                 row.sop_instance_uid, why.code, why.message, arrival.path.string());
  if (not_an_image) {
    keep_rejected_input(journal_, quarantine_dir_, arrival.gateway_id, rejected.value(), arrival.path,
                        arrival.source == ingest::ArrivalSource::scp);
  }
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
      logger()->debug("gw={} job={} sop={} already known: {}", arrival.gateway_id, job, record.sop_instance_uid,
                      arrival.path.string());
      return outcome(ingest::AcceptOutcome::duplicate, job);
    case journal::ArrivalOutcome::duplicate:
      logger()->info("gw={} job={} sop={} already known: {} (same {}: a duplicate, nothing new)", arrival.gateway_id,
                     job, record.sop_instance_uid, arrival.path.string(),
                     record.canonical_hash.empty() ? "bytes" : "content in another encoding");
      return outcome(ingest::AcceptOutcome::duplicate, job);
    case journal::ArrivalOutcome::conflict:
      logger()->warn("gw={} job={} sop={} rejected: conflict: {}", arrival.gateway_id, job, record.sop_instance_uid,
                     arrival.path.string());
      // An SCP spool file is the only copy: moved, not copied, so that a refused C-STORE is kept once.
      keep_rejected_input(journal_, quarantine_dir_, arrival.gateway_id, job, arrival.path,
                          arrival.source == ingest::ArrivalSource::scp);
      return outcome(ingest::AcceptOutcome::conflict, job, "conflict", kConflictComment);
    case journal::ArrivalOutcome::known_conflict:
      // Recorded and kept the first time: a retry changes nothing.
      logger()->info("gw={} job={} sop={} conflicting content sent again: refused as before", arrival.gateway_id, job,
                     record.sop_instance_uid);
      return outcome(ingest::AcceptOutcome::conflict, job, "conflict", kConflictComment);
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
