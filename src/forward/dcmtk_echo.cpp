// C-ECHO to a destination: the same connection and association request as a send, the Verification SOP class.

#include <dcmtk/dcmdata/dcuid.h>

#include <algorithm>

#include "creni/forward/store_status.hpp"
#include "dcmtk_send_steps.hpp"

namespace creni::forward {

using detail::Association;
using detail::condition_text;
using detail::error_comment;
using detail::failed;
using detail::proposed_transfer_syntaxes;
using detail::release_into;
using detail::RequestorNetwork;

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

}  // namespace creni::forward
