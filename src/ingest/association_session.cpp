#include "association_session.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dul.h>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <vector>

#include "creni/common/clock.hpp"
#include "creni/dicom/storage_classes.hpp"
#include "creni/ingest/unknown_syntax_contexts.hpp"
#include "quick_ack_transport.hpp"
#include "store_request.hpp"
#include "unique_fd.hpp"

namespace creni::ingest {

namespace {

// The whole A-ASSOCIATE-RQ is already buffered when DCMTK reads it; this only bounds a surprise.
constexpr int kReceiveRqTimeoutS = 2;
// After A-RELEASE-RP or A-ASSOCIATE-RJ, how long to wait for the peer to close first (avoids TIME_WAIT here).
constexpr int kDropTimeoutS = 1;
// How often a worker waiting for the next command looks at the stop flag.
constexpr auto kIdleSlice = std::chrono::milliseconds(200);

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("ingest");
  return named ? named : spdlog::default_logger();
}

// dcmExternalSocketHandle is one process-wide value read by the next DCMTK accept: whoever sets it holds this lock
// until DCMTK has consumed it and it is reset.
std::mutex& external_socket_mutex() {
  static std::mutex mutex;
  return mutex;
}

void set_timeout(int fd, int option, int seconds) {
  timeval limit{};
  limit.tv_sec = std::max(seconds, 1);
  (void)::setsockopt(fd, SOL_SOCKET, option, &limit, sizeof(limit));
}

// True when `dup_fd` is still an open descriptor of the same socket as `original_fd`. Only we ever duplicate an
// accepted socket, so the same inode means DCMTK did not take (and close) our duplicate; a reused descriptor
// number would belong to another file.
bool still_our_duplicate(int dup_fd, int original_fd) {
  struct stat dup_info {};
  struct stat original_info {};
  if (::fstat(dup_fd, &dup_info) != 0 || ::fstat(original_fd, &original_info) != 0) return false;
  return dup_info.st_dev == original_info.st_dev && dup_info.st_ino == original_info.st_ino;
}

const std::vector<std::string>* acceptable_syntaxes(const std::string& abstract_syntax, bool accept_private_non_image) {
  if (abstract_syntax == UID_VerificationSOPClass) return &dicom::uncompressed_transfer_syntax_uids();
  if (dicom::is_storage_sop_class(abstract_syntax)) return &dicom::storage_transfer_syntax_uids();
  if (accept_private_non_image && dicom::is_private_non_image_sop_class(abstract_syntax)) {
    return &dicom::storage_transfer_syntax_uids();
  }
  return nullptr;
}

// The sender's order wins (issue 4): the first syntax it proposes that we can decode.
const char* first_acceptable(const T_ASC_PresentationContext& context, const std::vector<std::string>& acceptable) {
  for (int i = 0; i < context.transferSyntaxCount; ++i) {
    const char* proposed = context.proposedTransferSyntaxes[i];
    if (std::find(acceptable.begin(), acceptable.end(), proposed) != acceptable.end()) return proposed;
  }
  return nullptr;
}

std::string status_hex(std::uint16_t status) { return fmt::format("0x{:04X}", status); }

// PS3.8 section 9.3.8: A-ABORT, source 0 (service-user), reason 0.
constexpr std::array<std::uint8_t, 10> kAbortPdu = {0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};

}  // namespace

std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) c = '?';
  }
  return out;
}

Result<std::unique_ptr<AcceptorNetwork>> AcceptorNetwork::create(int acse_timeout_s) {
  T_ASC_Network* network = nullptr;
  OFCondition created;
  {
    // With no external socket set, ASC_initializeNetwork opens a listening socket of its own on every interface
    // (port 0 here) that nobody would ever serve. Any open descriptor suppresses that; it is only tested.
    const UniqueFd placeholder(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const std::lock_guard lock(external_socket_mutex());
    dcmExternalSocketHandle.set(placeholder.get());
    created = ASC_initializeNetwork(NET_ACCEPTOR, 0, acse_timeout_s, &network);
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
  }
  if (created.bad() || network == nullptr) {
    return make_error("dcmtk_error", std::string("ASC_initializeNetwork: ") + created.text());
  }
  std::unique_ptr<AcceptorNetwork> owned(new AcceptorNetwork(network));
  const OFCondition layered = ASC_setTransportLayer(network, new QuickAckTransportLayer(), 1);
  if (layered.bad()) return make_error("dcmtk_error", std::string("ASC_setTransportLayer: ") + layered.text());
  return owned;
}

AcceptorNetwork::~AcceptorNetwork() { ASC_dropNetwork(&network_); }

AssociationSession::AssociationSession(ScpShared& shared, int socket, std::string peer_address,
                                       const std::string& calling_ae_hint)
    : shared_(shared),
      socket_(socket),
      peer_address_(std::move(peer_address)),
      association_id_(std::to_string(unix_time_ms()) + "-" + std::to_string(++shared.associations_started)),
      started_(std::chrono::steady_clock::now()) {
  if (shared_.watchdog != nullptr) {
    progress_ = shared_.watchdog->watch(socket_, peer_address_ + " calling=" + printable(calling_ae_hint));
  }
}

AssociationSession::~AssociationSession() {
  release_association();
  if (progress_) shared_.watchdog->forget(progress_);
}

void AssociationSession::run() noexcept {
  // Firewall: nothing from DCMTK, the sink or the file system may take the worker thread down.
  try {
    try {
      serve();
    } catch (const std::exception& e) {
      abort(std::string("internal error: ") + e.what());
    } catch (...) {
      abort("internal error");
    }
  } catch (...) {
    ended_ = "internal error";
  }
  if (progress_ && !progress_->verdict().empty()) ended_ = "aborted: " + progress_->verdict();
  release_association();
  try {
    if (images_ok_ > 0) shared_.sink.association_ended(association_id_);
    log_summary();
  } catch (...) {
  }
}

void AssociationSession::serve() {
  // Every write (responses, A-ASSOCIATE-AC) is bounded; reads are bounded by DCMTK's own timeouts, this is a net.
  set_timeout(socket_, SO_SNDTIMEO, shared_.options.dimse_timeout_s);
  set_timeout(socket_, SO_RCVTIMEO, shared_.options.dimse_timeout_s + shared_.options.acse_timeout_s);
  if (!receive_association()) return;
  if (shared_.stopping) {
    reject(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
           ASC_REASON_SP_PRES_TEMPORARYCONGESTION, "node stopping");
    return;
  }
  if (!admit()) return;
  negotiate();
  const OFCondition acknowledged = ASC_acknowledgeAssociation(association_);
  if (acknowledged.bad()) {
    ended_ = std::string("A-ASSOCIATE-AC failed: ") + acknowledged.text();
    return;
  }
  admitted_ = true;
  (void)stand_in_for_unknown_syntaxes(association_);  // HTJ2K: see unknown_syntax_contexts.hpp
  if (progress_) progress_->message_completed();
  serve_commands();
}

bool AssociationSession::receive_association() {
  // DCMTK closes the descriptor it is given when the association ends; ours stays valid for stop() until the
  // worker closes it after the session.
  const int dcmtk_socket = ::fcntl(socket_, F_DUPFD_CLOEXEC, 3);
  if (dcmtk_socket < 0) {
    ended_ = "cannot duplicate the socket";
    return false;
  }
  OFCondition received;
  {
    const std::lock_guard lock(external_socket_mutex());
    dcmExternalSocketHandle.set(dcmtk_socket);
    received = ASC_receiveAssociation(shared_.network->get(), &association_, static_cast<long>(shared_.options.max_pdu),
                                      nullptr, nullptr, OFFalse, DUL_NOBLOCK, kReceiveRqTimeoutS);
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
  }
  const bool dcmtk_has_socket = association_ != nullptr && association_->DULassociation != nullptr &&
                                DUL_getTransportConnection(association_->DULassociation) != nullptr;
  if (!dcmtk_has_socket && still_our_duplicate(dcmtk_socket, socket_)) ::close(dcmtk_socket);
  if (received.bad()) {
    ended_ = std::string("A-ASSOCIATE-RQ unreadable: ") + received.text();
    return false;
  }
  std::array<char, 65> calling{};
  std::array<char, 65> called{};
  std::array<char, 65> responding{};
  (void)ASC_getAPTitles(association_->params, calling.data(), calling.size(), called.data(), called.size(),
                        responding.data(), responding.size());
  calling_ae_ = trimmed_ae_title(calling.data());
  called_ae_ = trimmed_ae_title(called.data());
  return true;
}

bool AssociationSession::admit() {
  std::array<char, 65> context_name{};
  (void)ASC_getApplicationContextName(association_->params, context_name.data(), context_name.size());
  if (std::string(context_name.data()) != UID_StandardApplicationContext) {
    reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_APPCONTEXTNAMENOTSUPPORTED,
           "application context not supported");
    return false;
  }
  const Admission admission = shared_.admission.admit({calling_ae_, called_ae_, peer_address_});
  switch (admission.verdict) {
    case AdmissionVerdict::admitted:
      gateway_id_ = admission.gateway_id;
      return true;
    case AdmissionVerdict::calling_ae_not_recognized:
      reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED,
             admission.reason);
      return false;
    case AdmissionVerdict::called_ae_not_recognized:
      reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED,
             admission.reason);
      return false;
    case AdmissionVerdict::address_not_allowed:
      // PS3.8 has no reason for addresses; "no reason given" tells a stranger nothing about our configuration.
      reject(ASC_RESULT_REJECTEDPERMANENT, ASC_SOURCE_SERVICEUSER, ASC_REASON_SU_NOREASON, admission.reason);
      return false;
  }
  return false;
}

void AssociationSession::negotiate() {
  T_ASC_Parameters* params = association_->params;
  contexts_proposed_ = ASC_countPresentationContexts(params);
  // Private non-image objects are accepted only when this gateway's processing has somewhere to put them.
  config::NonImagePolicy non_image = shared_.options.non_image;
  for (const auto& gateway : shared_.options.gateways) {
    if (gateway.id == gateway_id_ && gateway.non_image) non_image = *gateway.non_image;
  }
  const bool accept_private_non_image = non_image != config::NonImagePolicy::reject;
  for (int i = 0; i < contexts_proposed_; ++i) {
    T_ASC_PresentationContext context{};
    if (ASC_getPresentationContext(params, i, &context).bad()) continue;
    const auto* acceptable = acceptable_syntaxes(context.abstractSyntax, accept_private_non_image);
    if (acceptable == nullptr) {
      (void)ASC_refusePresentationContext(params, context.presentationContextID, ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
      continue;
    }
    const char* chosen = first_acceptable(context, *acceptable);
    if (chosen == nullptr) {
      (void)ASC_refusePresentationContext(params, context.presentationContextID, ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
      continue;
    }
    if (ASC_acceptPresentationContext(params, context.presentationContextID, chosen).good()) ++contexts_accepted_;
  }
}

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

void AssociationSession::reject(T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                                T_ASC_RejectParametersReason reason, const std::string& why) {
  T_ASC_RejectParameters parameters{result, source, reason};
  const OFCondition sent = ASC_rejectAssociation(association_, &parameters);
  peer_closes_next_ = sent.good();
  ended_ = "rejected: " + why + (sent.good() ? "" : std::string(" (A-ASSOCIATE-RJ not sent: ") + sent.text() + ")");
}

void AssociationSession::abort(const std::string& why) {
  ended_ = "aborted: " + why;
  // A raw A-ABORT and a shutdown instead of ASC_abortAssociation, which reads on until the peer closes and so
  // could be held up by a peer that keeps sending. Never blocks: the PDU fits any socket buffer.
  (void)::send(socket_, kAbortPdu.data(), kAbortPdu.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)::shutdown(socket_, SHUT_RDWR);
}

void AssociationSession::release_association() noexcept {
  if (association_ == nullptr) return;
  if (peer_closes_next_) {
    (void)ASC_dropSCPAssociation(association_, kDropTimeoutS);  // waits (briefly) for the peer to close first
  } else {
    (void)ASC_dropAssociation(association_);
  }
  (void)ASC_destroyAssociation(&association_);
  association_ = nullptr;
}

void AssociationSession::log_summary() const {
  if (shared_.options.metrics) shared_.options.metrics->association_ended(ended_);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  const bool ordinary = admitted_ && ended_ == "released";
  if (!ordinary && shared_.throttle != nullptr && !shared_.throttle->admit(admitted_ ? "association aborted" : "association refused")) {
    return;
  }
  if (!admitted_) {
    logger()->warn("association from {} calling={} called={} {} after {} ms", peer_address_, printable(calling_ae_),
                   printable(called_ae_), ended_, elapsed);
    return;
  }
  logger()->info("association from {} calling={} called={} gw={} contexts={}/{} images={} failed={} duration={} ms {}",
                 peer_address_, printable(calling_ae_), printable(called_ae_), gateway_id_, contexts_accepted_,
                 contexts_proposed_, images_ok_, images_failed_, elapsed, ended_);
}

}  // namespace creni::ingest
