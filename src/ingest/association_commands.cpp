// An admitted association's commands: waiting for the next one, C-ECHO, and C-STORE with its response.

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmnet/dul.h>
#include <poll.h>

#include <algorithm>
#include <memory>

#include "association_session.hpp"
#include "ingest_logger.hpp"
#include "store_request.hpp"

namespace creni::ingest {

using detail::logger;

namespace {

// How often a worker waiting for the next command looks at the stop flag.
constexpr auto kIdleSlice = std::chrono::milliseconds(200);

std::string status_hex(std::uint16_t status) { return fmt::format("0x{:04X}", status); }

}  // namespace

AssociationSession::Wait AssociationSession::wait_for_command() const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(shared_.options.dimse_timeout_s);
  while (true) {
    // DCMTK may hold the next PDV in its own buffer already, so ask it before looking at the socket.
    if (ASC_dataWaiting(association_, 0)) return Wait::command;
    if (shared_.stopping) return Wait::stopping;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Wait::idle_timeout;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd readable{socket_, POLLIN, 0};
    (void)::poll(&readable, 1, static_cast<int>(std::min(left, std::chrono::milliseconds(kIdleSlice)).count()) + 1);
  }
}

void AssociationSession::serve_commands() {
  while (true) {
    switch (wait_for_command()) {
      case Wait::command:
        break;
      case Wait::idle_timeout:
        abort("idle for dimse_timeout_s");
        return;
      case Wait::stopping:
        abort("node stopping");
        return;
    }
    T_ASC_PresentationContextID context_id = 0;
    T_DIMSE_Message message{};
    const OFCondition got = DIMSE_receiveCommand(association_, DIMSE_NONBLOCKING, shared_.options.dimse_timeout_s,
                                                 &context_id, &message, nullptr);
    if (got == DUL_PEERREQUESTEDRELEASE) {
      (void)ASC_acknowledgeRelease(association_);
      peer_closes_next_ = true;
      ended_ = "released";
      return;
    }
    if (got == DUL_PEERABORTEDASSOCIATION) {
      ended_ = "aborted by peer";
      return;
    }
    if (got.bad()) {
      abort(std::string("no command: ") + got.text());
      return;
    }
    if (progress_) progress_->message_completed();
    switch (message.CommandField) {
      case DIMSE_C_ECHO_RQ:
        answer_echo(context_id, message.msg.CEchoRQ);
        break;
      case DIMSE_C_STORE_RQ:
        if (!answer_store(context_id, message.msg.CStoreRQ)) return;
        break;
      default:
        abort(fmt::format("unsupported DIMSE command 0x{:04X}", static_cast<unsigned>(message.CommandField)));
        return;
    }
  }
}

void AssociationSession::answer_echo(T_ASC_PresentationContextID context_id, const T_DIMSE_C_EchoRQ& request) {
  const OFCondition sent = DIMSE_sendEchoResponse(association_, context_id, &request, STATUS_Success, nullptr);
  if (sent.bad()) logger()->debug("scp: C-ECHO response to {} failed: {}", peer_address_, sent.text());
}

bool AssociationSession::answer_store(T_ASC_PresentationContextID context_id, const T_DIMSE_C_StoreRQ& request) {
  const std::string peer_label = calling_ae_ + "@" + peer_address_;
  const StoreReply reply = receive_store(
      shared_, {association_, gateway_id_, peer_label, progress_.get(), association_id_}, context_id, request);
  if (reply.association_broken) {
    ++images_failed_;
    abort("C-STORE data set not received");
    return false;
  }
  T_DIMSE_C_StoreRSP response{};
  response.MessageIDBeingRespondedTo = request.MessageID;
  response.DimseStatus = reply.status;
  response.DataSetType = DIMSE_DATASET_NULL;
  OFStandard::strlcpy(response.AffectedSOPClassUID, request.AffectedSOPClassUID, sizeof(response.AffectedSOPClassUID));
  OFStandard::strlcpy(response.AffectedSOPInstanceUID, request.AffectedSOPInstanceUID,
                      sizeof(response.AffectedSOPInstanceUID));
  response.opts = O_STORE_AFFECTEDSOPCLASSUID | O_STORE_AFFECTEDSOPINSTANCEUID;
  if ((request.opts & O_STORE_RQ_BLANK_PADDING) != 0) response.opts |= O_STORE_RSP_BLANK_PADDING;
  std::unique_ptr<DcmDataset> detail;
  if (!reply.comment.empty()) {
    detail = std::make_unique<DcmDataset>();
    (void)detail->putAndInsertString(DCM_ErrorComment, printable(reply.comment).c_str());
  }
  const OFCondition sent = DIMSE_sendStoreResponse(association_, context_id, &request, &response, detail.get());
  // Our own time (spool, journal, the response) is not the peer's inactivity.
  if (progress_) progress_->message_completed();
  const bool acknowledged = sent.good() && reply.status == STATUS_Success;
  if (acknowledged) {
    ++images_ok_;
    ++shared_.images_stored;
  } else {
    ++images_failed_;
  }
  logger()->info("gw={} job={} sop={} status={}{} peer={}", gateway_id_, reply.job_id,
                 printable(reply.sop_instance_uid), status_hex(reply.status),
                 reply.comment.empty() ? "" : " (" + printable(reply.comment) + ")", printable(peer_label));
  if (sent.bad()) {
    abort(std::string("C-STORE response not sent: ") + sent.text());
    return false;
  }
  return true;
}

}  // namespace creni::ingest
