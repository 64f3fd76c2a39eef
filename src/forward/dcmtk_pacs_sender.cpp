#include "creni/forward/dcmtk_pacs_sender.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/cond.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmtls/tlslayer.h>
#include <dcmtk/ofstd/ofstd.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "creni/forward/store_status.hpp"
#include "dcmtk_session.hpp"
#include "peer_socket.hpp"

namespace creni::forward {

using detail::Association;
using detail::condition_text;
using detail::RequestorNetwork;
using detail::TunedTransportLayer;

struct DcmtkPacsSender::Transport {
  detail::SocketHandOver hand_over;  // declared before the layer that refers to it
  std::unique_ptr<DcmTransportLayer> layer;
  bool secure = false;
  std::string setup_error;  // not empty: TLS could not be set up, every send fails before connecting
};

namespace detail {

// A result loaded for sending, with the identifiers the association is chosen by.
struct FileToSend {
  DcmFileFormat file;
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string study_instance_uid;
  std::string transfer_syntax_uid;  // as the file is encoded
  DcmDataset* dataset() { return file.getDataset(); }
};

}  // namespace detail

using detail::FileToSend;

namespace {

SendResult failed(SendPhase phase, std::string detail, int dimse_status = -1) {
  return SendResult{SendOutcome::failed, phase, std::move(detail), dimse_status};
}

SendResult unknown(SendPhase phase, std::string detail) {
  return SendResult{SendOutcome::unknown, phase, std::move(detail), -1};
}

// ---- process-wide connect timeout -------------------------------------------------------------------------------

// DCMTK 3.6.7 reads its connect timeout from one global (dcmConnectionTimeout, -1 = blocking connect). DCMTK only
// ever connects to our hand-over point on the loopback (the PACS gets our own socket, with the destination's
// connect_timeout_s), but that connect must not block either: the largest configured value bounds it.
void raise_process_connect_timeout(int seconds) {
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  const Sint32 wanted = std::max(1, seconds);
  if (dcmConnectionTimeout.get() < wanted) dcmConnectionTimeout.set(wanted);
}

int io_timeout_of(const config::DestinationConfig& destination) {
  return std::max({1, destination.acse_timeout_s, destination.dimse_timeout_s});
}

// ---- transport layers -------------------------------------------------------------------------------------------

std::string tls_file_error(const char* what, const std::filesystem::path& file, const OFCondition& condition) {
  return std::string("TLS: cannot load ") + what + " '" + file.string() + "': " + condition.text();
}

// Sets a TLS layer up per BCP 195 (non-downgrading); returns the first problem, "" when ready.
std::string configure_tls(DcmTLSTransportLayer& layer, const config::TlsConfig& tls) {
  if (!layer) return "TLS: the OpenSSL context could not be created";
  OFCondition condition = layer.setTLSProfile(TSP_Profile_BCP195_ND);
  if (condition.good()) condition = layer.activateCipherSuites();
  if (condition.bad()) return std::string("TLS: cannot activate the BCP 195 cipher suites: ") + condition.text();

  if (tls.trusted_certificates.empty()) return "TLS: no trusted_certificates: the PACS's certificate cannot be verified";
  for (const auto& authority : tls.trusted_certificates) {
    condition = layer.addTrustedCertificateFile(authority.c_str(), DCF_Filetype_PEM);
    if (condition.bad()) return tls_file_error("trusted certificate", authority, condition);
  }
  // For a client the peer is the PACS, which always presents a certificate: both settings verify it against
  // the trusted authorities; "check" only tolerates a peer without one.
  layer.setCertificateVerification(tls.require_peer_certificate ? DCV_requireCertificate : DCV_checkCertificate);

  if (tls.certificate.empty() != tls.private_key.empty()) {
    return "TLS: a client certificate needs both certificate and private_key";
  }
  if (!tls.certificate.empty()) {
    // An empty password makes an encrypted key fail to load instead of OpenSSL prompting on the console.
    layer.setPrivateKeyPasswd("");
    condition = layer.setPrivateKeyFile(tls.private_key.c_str(), DCF_Filetype_PEM);
    if (condition.bad()) return tls_file_error("private key", tls.private_key, condition);
    condition = layer.setCertificateFile(tls.certificate.c_str(), DCF_Filetype_PEM);
    if (condition.bad()) return tls_file_error("certificate", tls.certificate, condition);
    if (!layer.checkPrivateKeyMatchesCertificate()) {
      return "TLS: private key '" + tls.private_key.string() + "' does not match certificate '" +
             tls.certificate.string() + "'";
    }
  }
  return "";
}

// ---- the file ---------------------------------------------------------------------------------------------------


std::string string_of(DcmItem* item, const DcmTagKey& tag) {
  OFString value;
  if (item == nullptr || item->findAndGetOFString(tag, value).bad()) return "";
  return value.c_str();
}

// Our own results are small, well-formed Part 10 files: loading them whole here is fine (the data set is sent
// from memory, so the file is parsed once). Returns the failure, nullopt when the file is ready.
std::optional<SendResult> load(const std::filesystem::path& path, FileToSend& out) {
  const OFCondition loaded = out.file.loadFile(path.c_str());
  if (loaded.bad()) return failed(SendPhase::prepare, "cannot read '" + path.string() + "': " + loaded.text());
  DcmDataset* dataset = out.dataset();
  if (dataset == nullptr || dataset->isEmpty()) return failed(SendPhase::prepare, "'" + path.string() + "' has no data set");
  out.sop_class_uid = string_of(dataset, DCM_SOPClassUID);
  out.sop_instance_uid = string_of(dataset, DCM_SOPInstanceUID);
  if (out.sop_class_uid.empty() || out.sop_instance_uid.empty()) {
    return failed(SendPhase::prepare, "'" + path.string() + "' has no SOP Class UID or SOP Instance UID");
  }
  out.study_instance_uid = string_of(dataset, DCM_StudyInstanceUID);
  out.transfer_syntax_uid = string_of(out.file.getMetaInfo(), DCM_TransferSyntaxUID);
  if (out.transfer_syntax_uid.empty()) out.transfer_syntax_uid = DcmXfer(dataset->getOriginalXfer()).getXferID();
  return std::nullopt;
}

// ---- association parameters -------------------------------------------------------------------------------------

// One presentation context per transfer syntax (odd ids 1, 3, 5), so the PACS can accept each on its own and we
// can prefer the file's own encoding: the file's transfer syntax, then Explicit and Implicit VR Little Endian.
std::vector<std::string> proposed_transfer_syntaxes(const std::string& file_transfer_syntax) {
  std::vector<std::string> syntaxes;
  for (const std::string& uid : {file_transfer_syntax, std::string(UID_LittleEndianExplicitTransferSyntax),
                                 std::string(UID_LittleEndianImplicitTransferSyntax)}) {
    if (!uid.empty() && std::find(syntaxes.begin(), syntaxes.end(), uid) == syntaxes.end()) syntaxes.push_back(uid);
  }
  return syntaxes;
}

struct ParametersOrError {
  T_ASC_Parameters* parameters = nullptr;
  OFCondition condition;
};

// `called_address` is where DCMTK connects: our hand-over point (the presentation addresses are not part of the
// A-ASSOCIATE-RQ PDU, so the PACS never sees it).
ParametersOrError association_parameters(const config::DestinationConfig& destination, const std::string& calling,
                                         const std::string& called_address, bool secure,
                                         const std::string& abstract_syntax,
                                         const std::vector<std::string>& transfer_syntaxes) {
  ParametersOrError out;
  out.condition = ASC_createAssociationParameters(&out.parameters, ASC_DEFAULTMAXPDU);
  if (out.condition.bad()) return out;
  out.condition = ASC_setAPTitles(out.parameters, calling.c_str(), destination.ae_title.c_str(), nullptr);
  if (out.condition.good()) out.condition = ASC_setTransportLayerType(out.parameters, secure ? OFTrue : OFFalse);
  if (out.condition.good()) {
    out.condition = ASC_setPresentationAddresses(out.parameters, OFStandard::getHostName().c_str(), called_address.c_str());
  }
  T_ASC_PresentationContextID id = 1;
  for (const auto& syntax : transfer_syntaxes) {
    if (out.condition.bad()) break;
    const char* one[] = {syntax.c_str()};
    out.condition = ASC_addPresentationContext(out.parameters, id, abstract_syntax.c_str(), one, 1);
    id = static_cast<T_ASC_PresentationContextID>(id + 2);
  }
  if (out.condition.bad()) (void)ASC_destroyAssociationParameters(&out.parameters);
  return out;
}

// connect covers TCP and the TLS handshake; a rejection or a missing answer to the request is `associate`.
SendResult association_failure(const OFCondition& condition, const Association& association,
                               const config::DestinationConfig& destination) {
  const std::string peer = destination.ae_title + "@" + detail::host_and_port(destination.host, destination.port);
  if (condition == DUL_ASSOCIATIONREJECTED) return failed(SendPhase::associate, association.reject_reason());
  // dcmtls reports a failed handshake (untrusted certificate, a peer without TLS) in its own module.
  if (condition.module() == OFM_dcmtls) {
    return failed(SendPhase::connect, "TLS handshake with " + peer + " failed: " + condition_text(condition));
  }
  const unsigned short code = condition.code();
  if (condition.module() == OFM_dcmnet &&
      (code == DULC_TCPINITERROR || code == DULC_UNKNOWNHOST || code == DULC_TLSERROR ||
       code == DULC_REQUESTASSOCIATIONFAILED)) {
    return failed(SendPhase::connect, "cannot connect to " + peer + ": " + condition_text(condition));
  }
  return failed(SendPhase::associate, "association with " + peer + " failed: " + condition_text(condition));
}

const char* result_reason_text(T_ASC_P_ResultReason reason) {
  switch (reason) {
    case ASC_P_ACCEPTANCE: return "accepted";
    case ASC_P_USERREJECTION: return "rejected by user";
    case ASC_P_NOREASON: return "rejected, no reason";
    case ASC_P_ABSTRACTSYNTAXNOTSUPPORTED: return "abstract syntax not supported";
    case ASC_P_TRANSFERSYNTAXESNOTSUPPORTED: return "transfer syntax not supported";
    case ASC_P_NOTYETNEGOTIATED: return "not answered";
  }
  return "rejected";
}

// What the PACS said to each proposed context, e.g. "... (1.2.840.10008.1.2.1: transfer syntax not supported)".
std::string context_results(T_ASC_Parameters* parameters, const std::string& abstract_syntax) {
  std::string text = "no presentation context accepted for " + abstract_syntax + " (";
  const int count = ASC_countPresentationContexts(parameters);
  for (int position = 0; position < count; ++position) {
    T_ASC_PresentationContext context{};
    if (ASC_getPresentationContext(parameters, position, &context).bad()) continue;
    if (position > 0) text += ", ";
    const char* proposed = context.transferSyntaxCount > 0 ? context.proposedTransferSyntaxes[0] : "?";
    text += std::string(proposed) + ": " + result_reason_text(context.resultReason);
  }
  return text + ")";
}

// The accepted context that fits the file best (its own transfer syntax first), or 0.
T_ASC_PresentationContextID choose_context(const Association& association, const FileToSend& file,
                                           std::string& accepted_transfer_syntax) {
  const T_ASC_PresentationContextID id = ASC_findAcceptedPresentationContextID(
      association.get(), file.sop_class_uid.c_str(), file.transfer_syntax_uid.c_str());
  if (id == 0) return 0;
  T_ASC_PresentationContext context{};
  if (ASC_findAcceptedPresentationContext(association.parameters(), id, &context).bad()) return 0;
  accepted_transfer_syntax = context.acceptedTransferSyntax;
  return id;
}

// Whether the file can go out in the transfer syntax the PACS accepted. Re-encoding between uncompressed syntaxes
// is cheap and safe; decompressing would decode pixel data, which the node's network process never does
// (DESIGN.md), so an encapsulated file needs its own syntax accepted.
bool can_send_as(FileToSend& file, const std::string& accepted_transfer_syntax) {
  return accepted_transfer_syntax == file.transfer_syntax_uid ||
         file.dataset()->canWriteXfer(DcmXfer(accepted_transfer_syntax.c_str()).getXfer());
}

// ---- the DIMSE exchange -----------------------------------------------------------------------------------------

void count_sent_bytes(void* context, unsigned long bytes) { *static_cast<unsigned long*>(context) = bytes; }

std::string error_comment(DcmDataset* status_detail) {
  const std::string comment = string_of(status_detail, DCM_ErrorComment);
  return comment.empty() ? "" : " (" + comment + ")";
}

std::string no_response_reason(const OFCondition& condition, int dimse_timeout_s) {
  if (condition == DIMSE_NODATAAVAILABLE) {
    return "no C-STORE response within " + std::to_string(dimse_timeout_s) + " s after the data set was sent";
  }
  if (condition == DUL_PEERABORTEDASSOCIATION) return "the PACS aborted the association before answering";
  if (condition == DUL_PEERREQUESTEDRELEASE) return "the PACS released the association before answering";
  return "no valid C-STORE response: " + condition_text(condition);
}

// The response decides the outcome; anything but our own C-STORE-RSP after the data set went out is `unknown`.
SendResult judge_store_response(const OFCondition& received, const T_DIMSE_Message& response, DIC_US message_id,
                                DcmDataset* status_detail, int dimse_timeout_s) {
  if (received.bad()) return unknown(SendPhase::response, no_response_reason(received, dimse_timeout_s));
  if (response.CommandField != DIMSE_C_STORE_RSP) {
    return unknown(SendPhase::response, "the PACS answered with command " +
                                            std::to_string(static_cast<int>(response.CommandField)) +
                                            " instead of a C-STORE response");
  }
  const T_DIMSE_C_StoreRSP& store = response.msg.CStoreRSP;
  if (store.MessageIDBeingRespondedTo != message_id) {
    return unknown(SendPhase::response, "the C-STORE response answers message " +
                                            std::to_string(store.MessageIDBeingRespondedTo) + ", not " +
                                            std::to_string(message_id));
  }
  const std::uint16_t status = store.DimseStatus;
  const std::string described = describe_store_status(status) + error_comment(status_detail);
  switch (classify_store_status(status)) {
    case StoreStatusClass::success: return SendResult{SendOutcome::sent, SendPhase::response, described, status};
    case StoreStatusClass::warning:
      return SendResult{SendOutcome::sent, SendPhase::response, "stored with " + described, status};
    case StoreStatusClass::duplicate:
      return SendResult{SendOutcome::sent, SendPhase::response, "already at the PACS: " + described, status};
    case StoreStatusClass::failure: break;
  }
  return failed(SendPhase::response, "refused by the PACS: " + described, status);
}

SendResult store(Association& association, T_ASC_PresentationContextID context, FileToSend& file,
                 int dimse_timeout_s) {
  T_DIMSE_Message request{};
  request.CommandField = DIMSE_C_STORE_RQ;
  T_DIMSE_C_StoreRQ& store_request = request.msg.CStoreRQ;
  const DIC_US message_id = association.get()->nextMsgID++;
  store_request.MessageID = message_id;
  OFStandard::strlcpy(store_request.AffectedSOPClassUID, file.sop_class_uid.c_str(), sizeof(DIC_UI));
  OFStandard::strlcpy(store_request.AffectedSOPInstanceUID, file.sop_instance_uid.c_str(), sizeof(DIC_UI));
  store_request.DataSetType = DIMSE_DATASET_PRESENT;
  store_request.Priority = DIMSE_PRIORITY_MEDIUM;

  unsigned long data_set_bytes_sent = 0;
  const OFCondition sent = DIMSE_sendMessageUsingMemoryData(association.get(), context, &request, nullptr,
                                                            file.dataset(), count_sent_bytes, &data_set_bytes_sent);
  if (sent.bad()) {
    // Every local check (context, conversion, empty data set) passed before: this is the transport failing
    // while the request was on its way, and the PACS may have received some or all of it.
    association.abort();
    return unknown(SendPhase::store, "connection lost while sending (" + std::to_string(data_set_bytes_sent) +
                                         " data set bytes handed over): " + condition_text(sent));
  }

  T_DIMSE_Message response{};
  T_ASC_PresentationContextID response_context = 0;
  DcmDataset* raw_status_detail = nullptr;
  const OFCondition received = DIMSE_receiveCommand(association.get(), DIMSE_NONBLOCKING, dimse_timeout_s,
                                                    &response_context, &response, &raw_status_detail);
  const std::unique_ptr<DcmDataset> status_detail(raw_status_detail);
  SendResult result = judge_store_response(received, response, message_id, status_detail.get(), dimse_timeout_s);
  if (result.outcome == SendOutcome::unknown) association.abort();
  return result;
}

// After a response the outcome is settled; a failed release is only worth a remark.
void release_into(Association& association, SendResult& result) {
  const OFCondition released = association.release();
  if (released.good()) return;
  result.detail += "; release failed: " + condition_text(released);
  if (result.outcome == SendOutcome::sent) result.phase = SendPhase::release;
}

}  // namespace

DcmtkPacsSender::DcmtkPacsSender(config::DestinationConfig destination, std::string node_ae_title)
    : destination_(std::move(destination)),
      calling_ae_title_(destination_.calling_ae_title.empty() ? std::move(node_ae_title)
                                                              : destination_.calling_ae_title),
      transport_(std::make_unique<Transport>()) {
  raise_process_connect_timeout(destination_.connect_timeout_s);
  const int io_timeout = io_timeout_of(destination_);
  if (!destination_.tls.enabled) {
    transport_->layer =
        std::make_unique<TunedTransportLayer<DcmTransportLayer>>(transport_->hand_over, io_timeout, false);
    return;
  }
  auto tls = std::make_unique<TunedTransportLayer<DcmTLSTransportLayer>>(transport_->hand_over, io_timeout, true,
                                                                         NET_REQUESTOR, nullptr, OFTrue);
  transport_->setup_error = configure_tls(*tls, destination_.tls);
  transport_->layer = std::move(tls);
  transport_->secure = true;
}

DcmtkPacsSender::~DcmtkPacsSender() = default;

struct DcmtkPacsSender::OpenAssociation {
  OpenAssociation(int acse_timeout_s, DcmTransportLayer& layer) : network(acse_timeout_s, layer) {}
  RequestorNetwork network;  // declared first: destroyed after the association that uses it
  Association association;
  std::string study_instance_uid;
};

void DcmtkPacsSender::release_association() {
  if (!open_) return;
  // The outcomes of the results it carried are recorded already: a failed release changes none of them.
  (void)open_->association.release();
  open_.reset();
}

SendResult DcmtkPacsSender::send_once(const std::filesystem::path& path) {
  if (!transport_->setup_error.empty()) return failed(SendPhase::prepare, transport_->setup_error);
  FileToSend file;
  if (std::optional<SendResult> unreadable = load(path, file)) return *unreadable;
  const bool sharing = destination_.share_association == config::AssociationSharing::study;

  // The association left open by the previous result serves this one when it is of the same study, still up,
  // and has a context for this file; otherwise it is released and a fresh one is requested.
  std::string accepted_syntax;
  T_ASC_PresentationContextID context = 0;
  if (open_ && sharing && !file.study_instance_uid.empty() && open_->study_instance_uid == file.study_instance_uid &&
      open_->association.usable()) {
    context = choose_context(open_->association, file, accepted_syntax);
    if (context != 0 && !can_send_as(file, accepted_syntax)) context = 0;
  }
  if (context == 0) {
    release_association();
    if (std::optional<SendResult> refused = open_for(file, context)) return *refused;
  }

  SendResult result = store(open_->association, context, file, std::max(1, destination_.dimse_timeout_s));
  if (result.outcome == SendOutcome::unknown) {
    open_.reset();  // aborted by store()
  } else if (!sharing || result.outcome != SendOutcome::sent) {
    release_into(open_->association, result);
    open_.reset();
  }
  return result;
}

std::optional<SendResult> DcmtkPacsSender::request(RequestorNetwork& network, Association& association,
                                                   const std::string& abstract_syntax,
                                                   const std::vector<std::string>& transfer_syntaxes) {
  if (network.condition().bad()) return failed(SendPhase::prepare, condition_text(network.condition()));
  // Our own connection to the PACS (IPv4 or IPv6), given to DCMTK through the hand-over point (peer_socket.hpp).
  const std::string peer = destination_.ae_title + "@" + detail::host_and_port(destination_.host, destination_.port);
  Result<fs::OwnedFd> connected = detail::connect_to_peer(destination_.host, destination_.port,
                                                          std::chrono::seconds(std::max(1, destination_.connect_timeout_s)));
  if (!connected) return failed(SendPhase::connect, "cannot connect to " + peer + ": " + connected.error().message);
  Result<detail::HandOverPoint> point = detail::HandOverPoint::open();
  if (!point) return failed(SendPhase::connect, point.error().message);
  ParametersOrError parameters = association_parameters(destination_, calling_ae_title_, point->address(),
                                                        transport_->secure, abstract_syntax, transfer_syntaxes);
  if (parameters.condition.bad()) return failed(SendPhase::prepare, condition_text(parameters.condition));

  transport_->hand_over.offer(std::move(connected).value());
  const OFCondition requested = association.request(network, parameters.parameters, destination_.acse_timeout_s);
  transport_->hand_over.withdraw();  // not taken when DCMTK failed before its connect
  if (requested.bad()) return association_failure(requested, association, destination_);
  return std::nullopt;
}

std::optional<SendResult> DcmtkPacsSender::open_for(FileToSend& file, unsigned char& context) {
  auto opened = std::make_unique<OpenAssociation>(destination_.acse_timeout_s, *transport_->layer);
  if (std::optional<SendResult> refused = request(opened->network, opened->association, file.sop_class_uid,
                                                  proposed_transfer_syntaxes(file.transfer_syntax_uid))) {
    return refused;
  }

  std::string accepted_syntax;
  context = choose_context(opened->association, file, accepted_syntax);
  if (context == 0) {
    SendResult result = failed(SendPhase::negotiate, context_results(opened->association.parameters(), file.sop_class_uid));
    release_into(opened->association, result);
    return result;
  }
  if (!can_send_as(file, accepted_syntax)) {
    SendResult result = failed(SendPhase::negotiate, "the PACS accepts " + file.sop_class_uid + " only as " +
                                                         accepted_syntax + ", and the file is " +
                                                         file.transfer_syntax_uid + " (no decoding here)");
    release_into(opened->association, result);
    return result;
  }
  opened->study_instance_uid = file.study_instance_uid;
  open_ = std::move(opened);
  return std::nullopt;
}

SendResult DcmtkPacsSender::echo() {
  if (!transport_->setup_error.empty()) return failed(SendPhase::prepare, transport_->setup_error);
  RequestorNetwork network(destination_.acse_timeout_s, *transport_->layer);
  Association association;
  if (std::optional<SendResult> refused = request(network, association, UID_VerificationSOPClass,
                                                  proposed_transfer_syntaxes(UID_LittleEndianExplicitTransferSyntax))) {
    return *refused;
  }
  if (ASC_findAcceptedPresentationContextID(association.get(), UID_VerificationSOPClass) == 0) {
    SendResult result = failed(SendPhase::negotiate, "the PACS does not accept the Verification SOP class");
    release_into(association, result);
    return result;
  }

  DIC_US status = 0;
  DcmDataset* raw_status_detail = nullptr;
  const int dimse_timeout = std::max(1, destination_.dimse_timeout_s);
  const OFCondition echoed = DIMSE_echoUser(association.get(), association.get()->nextMsgID++, DIMSE_NONBLOCKING,
                                            dimse_timeout, &status, &raw_status_detail);
  const std::unique_ptr<DcmDataset> status_detail(raw_status_detail);
  if (echoed.bad()) {
    association.abort();
    return failed(SendPhase::response, "C-ECHO without valid response: " + condition_text(echoed));
  }
  SendResult result = status == 0 ? SendResult{SendOutcome::sent, SendPhase::response, "echo answered", status}
                                  : failed(SendPhase::response, "C-ECHO status " + describe_store_status(status) +
                                                                    error_comment(status_detail.get()),
                                           status);
  release_into(association, result);
  return result;
}

std::function<std::unique_ptr<PacsSender>(const config::DestinationConfig&)> dcmtk_sender_factory(
    std::string node_ae_title) {
  return [node_ae_title = std::move(node_ae_title)](const config::DestinationConfig& destination) {
    return std::unique_ptr<PacsSender>(std::make_unique<DcmtkPacsSender>(destination, node_ae_title));
  };
}

}  // namespace creni::forward
