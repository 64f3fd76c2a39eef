#include "store_request.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <optional>

#include "creni/common/crash_point.hpp"
#include "creni/common/uid.hpp"
#include "creni/dicom/dataset_identity.hpp"
#include "dataset_sink.hpp"
#include "meta_header.hpp"
#include "spool_file.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

constexpr std::size_t kMaxErrorComment = 64;  // ErrorComment is LO (PS3.7 section C.4.2.1.2)

using detail::logger;  // the module's logger (ingest_logger.hpp)

enum class Reception { complete, write_failed, too_large, wrong_context, association_broken };

struct ByteCount {
  unsigned long bytes = 0;
  SessionProgress* progress = nullptr;
};

// DCMTK reports the running total of data set bytes received after each PDV.
void count_bytes(void* context, unsigned long byte_count) {
  auto* count = static_cast<ByteCount*>(context);
  count->bytes = byte_count;
  if (count->progress != nullptr) count->progress->dataset_bytes(byte_count);
}

struct Received {
  OFCondition condition;
  T_ASC_PresentationContextID context_id = 0;
  unsigned long bytes = 0;
};

// Reads one data set into `sink`, with its progress visible to the watchdog (transfer rate) all along.
Received receive_dataset(const ScpShared& shared, const StoreOrigin& origin, DatasetSink& sink) {
  ByteCount counted{0, origin.progress};
  if (origin.progress != nullptr) origin.progress->dataset_started();
  Received received;
  received.condition = DIMSE_receiveDataSetInFile(origin.association, DIMSE_NONBLOCKING, shared.options.dimse_timeout_s,
                                                  &received.context_id, &sink.stream(), count_bytes, &counted);
  if (origin.progress != nullptr) origin.progress->message_completed();
  received.bytes = counted.bytes;
  return received;
}

std::uint64_t size_of(int fd) {
  struct stat info {};
  return ::fstat(fd, &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

StoreReply failed(std::uint16_t status, std::string comment) {
  StoreReply reply;
  reply.status = status;
  if (comment.size() > kMaxErrorComment) comment.resize(kMaxErrorComment);
  reply.comment = std::move(comment);
  return reply;
}

StoreReply broken() {
  StoreReply reply;
  reply.association_broken = true;
  return reply;
}

// Reads and drops a data set we refuse, so that the next command can follow on the same association.
bool discard_dataset(const ScpShared& shared, const StoreOrigin& origin) {
  auto sink = DatasetSink::discarding();
  if (!sink) {
    DIC_UL bytes = 0;
    DIC_UL fragments = 0;
    return DIMSE_ignoreDataSet(origin.association, DIMSE_NONBLOCKING, shared.options.dimse_timeout_s, &bytes,
                               &fragments)
        .good();
  }
  return receive_dataset(shared, origin, **sink).condition.good();
}

StoreReply refuse_unread(const ScpShared& shared, const StoreOrigin& origin, std::uint16_t status,
                         std::string comment) {
  if (!discard_dataset(shared, origin)) return broken();
  return failed(status, std::move(comment));
}

bool context_carries(T_ASC_Association* association, T_ASC_PresentationContextID context_id,
                     const std::string& sop_class) {
  T_ASC_PresentationContext context{};
  if (ASC_findAcceptedPresentationContext(association->params, context_id, &context).bad()) return false;
  return sop_class == context.abstractSyntax;
}

bool intake_paused(const ScpShared& shared) {
  if (!shared.intake_paused) return false;
  try {
    return shared.intake_paused();
  } catch (...) {
    return true;  // when in doubt, do not acknowledge what may not be kept
  }
}

// Receives the data set into `spool` after its meta header; on success `content_hash` is the SHA-256 of the data
// set bytes.
Reception spool_dataset(const ScpShared& shared, const StoreOrigin& origin, T_ASC_PresentationContextID context_id,
                        const T_DIMSE_C_StoreRQ& request, const SpoolFile& spool, std::string& content_hash) {
  const std::filesystem::path& path = spool.path();
  if (path.empty()) {
    logger()->error("gw={} cannot create a spool file in {}", origin.gateway_id, shared.options.spool_dir.string());
    return discard_dataset(shared, origin) ? Reception::write_failed : Reception::association_broken;
  }
  const auto cannot_store = [&](const std::string& why) {
    logger()->error("gw={} cannot create spool file {}: {}", origin.gateway_id, path.string(), why);
    return discard_dataset(shared, origin) ? Reception::write_failed : Reception::association_broken;
  };
  if (spool.fd() < 0) return cannot_store("cannot open: " + spool.open_error());
  // The meta group comes from the command and the presentation context; the data set bytes follow unparsed.
  const auto head = meta_header_for(request, origin.association, context_id);
  if (!head) return cannot_store(head.error().describe());
  const auto meta_bytes = static_cast<std::uint64_t>(head->size());
  auto sink = DatasetSink::writing_to(spool.fd(), *head, shared.options.max_dataset_bytes);
  if (!sink) return cannot_store(sink.error().describe());
  const Received received = receive_dataset(shared, origin, **sink);
  const bool written = (*sink)->close();
  const OFCondition& got = received.condition;
  if ((*sink)->exceeded() && got.good()) return Reception::too_large;
  if (!written && got.good()) {
    logger()->warn("gw={} peer={} cannot write the spool file {}: disk full or unwritable", origin.gateway_id,
                   origin.peer_label, path.string());
    return Reception::write_failed;
  }
  if (got.code() == DIMSEC_OUTOFRESOURCES && got.module() == OFM_dcmnet) {
    // DCMTK could not write to the spool (disk full) and has read the rest of the data set off the wire: the
    // association is still in step, so the sender gets 0xA700 for this image instead of an abort.
    logger()->warn("gw={} peer={} cannot write the spool file {}: {}", origin.gateway_id, origin.peer_label,
                   path.string(), got.text());
    return Reception::write_failed;
  }
  if (got.bad()) {
    logger()->info("gw={} peer={} data set not received completely: {}", origin.gateway_id, origin.peer_label,
                   got.text());
    return Reception::association_broken;
  }
  if (received.context_id != context_id) return Reception::wrong_context;
  // A full disk may surface only when the last buffered bytes are written at close: compare sizes.
  if (!written || size_of(spool.fd()) != meta_bytes + received.bytes) return Reception::write_failed;
  content_hash = (*sink)->content_hash();
  return Reception::complete;
}

// The data set's own UIDs must be the command's (PS3.4 section B.2.3: 0xA900 otherwise). A data set whose UIDs
// come after a sequence cannot be checked cheaply here; the worker reads them again anyway.
std::optional<AcceptResult> refusal_by_identity(const std::filesystem::path& path, const std::string& sop_class,
                                                const std::string& sop_instance, const std::string& gateway_id) {
  const auto identity = dicom::read_dataset_identity(path);
  if (!identity) {
    if (identity.error().code == "undetermined") {
      logger()->debug("gw={} sop={} SOP UIDs not checked: {}", gateway_id, printable(sop_instance),
                      identity.error().message);
      return std::nullopt;
    }
    return AcceptResult{AcceptOutcome::rejected, 0, identity.error().code, "data set unreadable"};
  }
  if (identity->sop_class_uid != sop_class) {
    return AcceptResult{AcceptOutcome::rejected, 0, "sop_mismatch", "data set SOP Class UID differs from command"};
  }
  if (identity->sop_instance_uid != sop_instance) {
    return AcceptResult{AcceptOutcome::rejected, 0, "sop_mismatch", "data set SOP Instance UID differs from command"};
  }
  return std::nullopt;
}

AcceptResult offer_to_sink(ScpShared& shared, const Arrival& arrival) {
  try {
    return shared.sink.accept(arrival);
  } catch (const std::exception& e) {
    return {AcceptOutcome::out_of_resources, 0, "sink_failed", e.what()};
  } catch (...) {
    return {AcceptOutcome::out_of_resources, 0, "sink_failed", "unknown failure"};
  }
}

// Only new work keeps the spool file: a duplicate needs none, a conflict was moved into quarantine by the sink.
bool sink_owns_file(AcceptOutcome outcome) { return outcome == AcceptOutcome::accepted; }

StoreReply reply_for(const AcceptResult& result) {
  StoreReply reply = failed(dimse_status_for(result), result.detail.empty() ? result.reason : result.detail);
  if (reply.status == STATUS_Success) reply.comment.clear();
  reply.job_id = result.job_id;
  return reply;
}

StoreReply receive_store_unguarded(ScpShared& shared, const StoreOrigin& origin, T_ASC_PresentationContextID context_id,
                                   const T_DIMSE_C_StoreRQ& request) {
  const std::string sop_class = uid::strip_padding(request.AffectedSOPClassUID);
  const std::string sop_instance = uid::strip_padding(request.AffectedSOPInstanceUID);
  if (!context_carries(origin.association, context_id, sop_class)) {
    return refuse_unread(shared, origin, STATUS_STORE_Refused_SOPClassNotSupported,
                         "SOP Class not negotiated on this presentation context");
  }
  if (intake_paused(shared)) {
    return refuse_unread(shared, origin, STATUS_STORE_Refused_OutOfResources,
                         "intake paused: low disk space");
  }
  // UIDs name folders and files later on: one that is not a valid UID (PS3.5 section 9.1), such as "../../x", is
  // refused before a byte is stored (the data set must carry the same UID, so it could never be processed).
  if (!uid::is_valid(sop_instance) || !uid::is_valid(sop_class)) {
    return refuse_unread(shared, origin, STATUS_STORE_Error_CannotUnderstand,
                         "Affected SOP Class/Instance UID is not a valid UID");
  }

  SpoolPool::Taken taken;
  if (shared.spool_pool != nullptr) {
    taken = shared.spool_pool->take();
  } else {
    taken.path = create_spool_file(shared.options.spool_dir);
  }
  SpoolFile spool(std::move(taken));
  std::string content_hash;
  switch (spool_dataset(shared, origin, context_id, request, spool, content_hash)) {
    case Reception::complete:
      break;
    case Reception::association_broken:
      return broken();
    case Reception::write_failed:
      return failed(STATUS_STORE_Refused_OutOfResources, "cannot write the spool file");
    case Reception::too_large:
      logger()->warn("gw={} peer={} data set over scp.max_dataset_mb ({} MiB): refused, nothing kept",
                     origin.gateway_id, origin.peer_label, shared.options.max_dataset_bytes >> 20);
      return failed(STATUS_STORE_Refused_OutOfResources, "data set larger than scp.max_dataset_mb");
    case Reception::wrong_context:
      return failed(STATUS_STORE_Error_CannotUnderstand, "data set sent on another presentation context");
  }
  if (const auto refusal = refusal_by_identity(spool.path(), sop_class, sop_instance, origin.gateway_id)) {
    return reply_for(*refusal);
  }
  // The image and its arrival record become durable together, with one sync: the journal row that follows needs
  // none of its own (Arrival::recoverable), as a start after a power cut rebuilds it from the record.
  const SpoolRecord record = [&] {
    SpoolRecord value;
    value.gateway_id = origin.gateway_id;
    value.association = origin.association_id;
    value.content_hash = content_hash;
    return value;
  }();
  if (Status durable = spool.seal(record, shared.spool_folder); !durable) {
    logger()->error("gw={} cannot make the spool file durable: {}", origin.gateway_id, durable.error().describe());
    return failed(STATUS_STORE_Refused_OutOfResources, "cannot make the spool file durable");
  }
  crash_point("scp_spool_published");
  const Arrival arrival = [&] {
    Arrival value;
    value.gateway_id = origin.gateway_id;
    value.source = ArrivalSource::scp;
    value.path = spool.path();
    value.sop_class_uid = sop_class;
    value.sop_instance_uid = sop_instance;
    value.peer = origin.peer_label;
    value.association = origin.association_id;
    value.content_hash = content_hash;
    value.recoverable = true;
    return value;
  }();
  const AcceptResult result = offer_to_sink(shared, arrival);
  if (sink_owns_file(result.outcome)) spool.release();
  crash_point("scp_arrival_recorded");
  return reply_for(result);
}

}  // namespace

StoreReply receive_store(ScpShared& shared, const StoreOrigin& origin, T_ASC_PresentationContextID context_id,
                         const T_DIMSE_C_StoreRQ& request) noexcept {
  StoreReply reply;
  try {
    reply = receive_store_unguarded(shared, origin, context_id, request);
    reply.sop_instance_uid = uid::strip_padding(request.AffectedSOPInstanceUID);
  } catch (const std::exception& e) {
    logger()->error("gw={} C-STORE failed internally: {}", origin.gateway_id, e.what());
    reply = broken();
  } catch (...) {
    logger()->error("gw={} C-STORE failed internally", origin.gateway_id);
    reply = broken();
  }
  return reply;
}

}  // namespace creni::ingest
