// The C-STORE of one instance: the request, the data set from memory, and what the response (or its absence)
// means for the result.

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmnet/cond.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/ofstd/ofstd.h>

#include <cstdint>

#include "creni/forward/store_status.hpp"
#include "dcmtk_send_steps.hpp"

namespace creni::forward::detail {

namespace {

void count_sent_bytes(void* context, unsigned long bytes) { *static_cast<unsigned long*>(context) = bytes; }

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

}  // namespace

std::string error_comment(DcmDataset* status_detail) {
  const std::string comment = string_of(status_detail, DCM_ErrorComment);
  return comment.empty() ? "" : " (" + comment + ")";
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

}  // namespace creni::forward::detail
