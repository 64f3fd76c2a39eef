// An association's set-up: the A-ASSOCIATE-RQ read from the socket handed to DCMTK, admission (application
// context, AE titles, address), presentation context negotiation, and A-ASSOCIATE-RJ.

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/dul.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <vector>

#include "association_session.hpp"
#include "creni/dicom/storage_classes.hpp"

namespace creni::ingest {

namespace {

// The whole A-ASSOCIATE-RQ is already buffered when DCMTK reads it; this only bounds a surprise.
constexpr int kReceiveRqTimeoutS = 2;

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

}  // namespace

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

void AssociationSession::reject(T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
                                T_ASC_RejectParametersReason reason, const std::string& why) {
  T_ASC_RejectParameters parameters{result, source, reason};
  const OFCondition sent = ASC_rejectAssociation(association_, &parameters);
  peer_closes_next_ = sent.good();
  ended_ = "rejected: " + why + (sent.good() ? "" : std::string(" (A-ASSOCIATE-RJ not sent: ") + sent.text() + ")");
}

}  // namespace creni::ingest
