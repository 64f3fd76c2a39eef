#pragma once

// Internal to the forward module: the steps DcmtkPacsSender is made of, one file per concern. Transport set-up
// (dcmtk_transport_setup.cpp), loading the file (dcmtk_file_to_send.cpp), association parameters and context
// negotiation (dcmtk_negotiation.cpp), the C-STORE exchange (dcmtk_store_exchange.cpp) and C-ECHO
// (dcmtk_echo.cpp); dcmtk_pacs_sender.cpp decides which association a result goes on. Nothing here is
// thread-safe; each object belongs to one send on one thread.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/forward/dcmtk_pacs_sender.hpp"
#include "dcmtk_session.hpp"
#include "peer_socket.hpp"

namespace creni::forward {

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

inline SendResult failed(SendPhase phase, std::string detail, int dimse_status = -1) {
  return SendResult{SendOutcome::failed, phase, std::move(detail), dimse_status};
}

inline SendResult unknown(SendPhase phase, std::string detail) {
  return SendResult{SendOutcome::unknown, phase, std::move(detail), -1};
}

// ---- transport set-up (dcmtk_transport_setup.cpp) ---------------------------------------------------------------

/// Raises DCMTK's process-wide connect timeout to at least `seconds` (never lowers it).
void raise_process_connect_timeout(int seconds);
/// The bound on every blocking send and receive of one destination's socket.
int io_timeout_of(const config::DestinationConfig& destination);
/// Sets a TLS layer up per BCP 195 (non-downgrading); returns the first problem, "" when ready.
std::string configure_tls(DcmTLSTransportLayer& layer, const config::TlsConfig& tls);

// ---- the file (dcmtk_file_to_send.cpp) --------------------------------------------------------------------------

/// The value of `tag` in `item` as a string, "" when absent or `item` is null.
std::string string_of(DcmItem* item, const DcmTagKey& tag);
/// Loads `path` into `out`; the failure, nullopt when the file is ready.
std::optional<SendResult> load(const std::filesystem::path& path, FileToSend& out);

// ---- association parameters and negotiation (dcmtk_negotiation.cpp) --------------------------------------------

/// The transfer syntaxes proposed for a file encoded in `file_transfer_syntax`, one context each.
std::vector<std::string> proposed_transfer_syntaxes(const std::string& file_transfer_syntax);

struct ParametersOrError {
  T_ASC_Parameters* parameters = nullptr;
  OFCondition condition;
};

/// The A-ASSOCIATE-RQ parameters for one abstract syntax; destroyed again when the condition is bad.
ParametersOrError association_parameters(const config::DestinationConfig& destination, const std::string& calling,
                                         const std::string& called_address, bool secure,
                                         const std::string& abstract_syntax,
                                         const std::vector<std::string>& transfer_syntaxes);
/// The failed result of an association request, in the phase it failed in.
SendResult association_failure(const OFCondition& condition, const Association& association,
                               const config::DestinationConfig& destination);
/// What the PACS said to each proposed context.
std::string context_results(T_ASC_Parameters* parameters, const std::string& abstract_syntax);
/// The accepted context that fits the file best (its own transfer syntax first), or 0.
T_ASC_PresentationContextID choose_context(const Association& association, const FileToSend& file,
                                           std::string& accepted_transfer_syntax);
/// Whether the file can go out in the transfer syntax the PACS accepted.
bool can_send_as(FileToSend& file, const std::string& accepted_transfer_syntax);
/// Releases `association`; a failed release is added to `result` as a remark.
void release_into(Association& association, SendResult& result);

// ---- the DIMSE exchange (dcmtk_store_exchange.cpp) --------------------------------------------------------------

/// " (<Error Comment>)" from a response's status detail, "" when there is none.
std::string error_comment(DcmDataset* status_detail);
/// One C-STORE of `file` on `context` and its response; aborts the association when the outcome is unknown.
SendResult store(Association& association, T_ASC_PresentationContextID context, FileToSend& file,
                 int dimse_timeout_s);

}  // namespace detail

}  // namespace creni::forward
