// The sender itself: its transport, the association kept for the next result of the same study, and the order of
// the steps (dcmtk_send_steps.hpp) for one result.

#include "creni/forward/dcmtk_pacs_sender.hpp"

#include <dcmtk/config/osconfig.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "dcmtk_send_steps.hpp"

namespace creni::forward {

using detail::Association;
using detail::association_failure;
using detail::association_parameters;
using detail::can_send_as;
using detail::choose_context;
using detail::condition_text;
using detail::configure_tls;
using detail::context_results;
using detail::failed;
using detail::FileToSend;
using detail::io_timeout_of;
using detail::load;
using detail::ParametersOrError;
using detail::proposed_transfer_syntaxes;
using detail::raise_process_connect_timeout;
using detail::release_into;
using detail::RequestorNetwork;
using detail::store;
using detail::TunedTransportLayer;

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

std::function<std::unique_ptr<PacsSender>(const config::DestinationConfig&)> dcmtk_sender_factory(
    std::string node_ae_title) {
  return [node_ae_title = std::move(node_ae_title)](const config::DestinationConfig& destination) {
    return std::unique_ptr<PacsSender>(std::make_unique<DcmtkPacsSender>(destination, node_ae_title));
  };
}

}  // namespace creni::forward
