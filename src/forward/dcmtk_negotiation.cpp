// Association set-up for one send: the proposed presentation contexts, what a failed request means, which accepted
// context fits the file, and the release that follows.

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/cond.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/ofstd/ofstd.h>

#include <algorithm>

#include "dcmtk_send_steps.hpp"

namespace creni::forward::detail {

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

namespace {

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

}  // namespace

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

// After a response the outcome is settled; a failed release is only worth a remark.
void release_into(Association& association, SendResult& result) {
  const OFCondition released = association.release();
  if (released.good()) return;
  result.detail += "; release failed: " + condition_text(released);
  if (result.outcome == SendOutcome::sent) result.phase = SendPhase::release;
}

}  // namespace creni::forward::detail
