// Operator commands for DICOM peers: echo and send, through the same SCU code as the forwarder.
#include <iostream>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/forward/dcmtk_pacs_sender.hpp"
#include "creni/forward/peer_address.hpp"

namespace creni::app {

namespace {

config::DestinationConfig destination_of(const PeerOptions& peer) {
  config::DestinationConfig destination;
  destination.name = "command-line";
  destination.host = peer.host;
  destination.port = peer.port;
  destination.ae_title = peer.called_ae_title;
  destination.calling_ae_title = peer.calling_ae_title;
  destination.connect_timeout_s = peer.timeout_s;
  destination.acse_timeout_s = peer.timeout_s;
  destination.dimse_timeout_s = peer.timeout_s;
  destination.tls.enabled = !peer.tls_trusted_certificates.empty();
  destination.tls.trusted_certificates = peer.tls_trusted_certificates;
  destination.tls.certificate = peer.tls_certificate;
  destination.tls.private_key = peer.tls_private_key;
  return destination;
}

std::string describe(const forward::SendResult& result) {
  std::string text = std::string(forward::to_string(result.outcome)) + " (" + std::string(forward::to_string(result.phase));
  if (result.dimse_status >= 0) {
    char status[24];
    std::snprintf(status, sizeof status, ", status 0x%04X", static_cast<unsigned>(result.dimse_status) & 0xFFFFu);
    text += status;
  }
  text += ")";
  if (!result.detail.empty()) text += ": " + result.detail;
  return text;
}

}  // namespace

int command_echo(const PeerOptions& peer) {
  const dicom::DcmtkRuntime runtime;
  forward::DcmtkPacsSender sender(destination_of(peer), peer.calling_ae_title);
  const forward::SendResult result = sender.echo();
  std::cout << "C-ECHO " << peer.called_ae_title << "@" << forward::host_and_port(peer.host, peer.port) << ": "
            << describe(result) << "\n";
  return result.outcome == forward::SendOutcome::sent ? kExitOk : kExitFailure;
}

int command_send(const PeerOptions& peer, const std::vector<std::filesystem::path>& files) {
  const dicom::DcmtkRuntime runtime;
  forward::DcmtkPacsSender sender(destination_of(peer), peer.calling_ae_title);
  int failures = 0;
  for (const auto& file : files) {
    const forward::SendResult result = sender.send_once(file);
    std::cout << file.string() << ": " << describe(result) << "\n";
    if (result.outcome != forward::SendOutcome::sent) ++failures;
  }
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace creni::app
