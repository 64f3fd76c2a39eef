#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/forward/pacs_sender.hpp"

namespace creni::forward {

namespace detail {
struct FileToSend;
class RequestorNetwork;
class Association;
}  // namespace detail

/// PacsSender over DCMTK 3.6.7 (dcmnet, dcmtls): one fresh association per call, the file's own transfer
/// syntax proposed beside Explicit and Implicit VR Little Endian for the file's SOP class, both the OFCondition
/// and the DIMSE response status checked, every blocking step bounded:
/// - connect: connect_timeout_s for all of the destination's addresses together. We connect, not DCMTK: DCMTK 3.6.7
///   cannot reach IPv6 peers, so the socket is connected here (IPv4 or IPv6; a name's addresses in resolver
///   order) and handed to DCMTK's association request through its transport layer (peer_socket.hpp). DCMTK's own
///   connect, to a listening socket of ours on 127.0.0.1, is bounded by its process-wide dcmConnectionTimeout,
///   which each sender raises to at least its connect_timeout_s when constructed (build senders before threads).
/// - association request and release: acse_timeout_s; C-STORE/C-ECHO response: dimse_timeout_s;
/// - socket sends and receives (SO_SNDTIMEO/SO_RCVTIMEO, also bounding the TLS handshake): the larger of the two;
/// - an A-ABORT (after a missing response) waits up to acse_timeout_s for the peer to close (DCMTK's ARTIM timer).
/// TCP_NODELAY is set on the connected socket by our own transport layer (the createConnection hook DCMTK uses
/// for TLS), before the first PDU goes out; the process environment (TCP_NODELAY variable) is never touched. The
/// same layer re-arms TCP_QUICKACK after every read, so a PACS that leaves Nagle's algorithm on (Orthanc, DCMTK
/// tools) is not held up by our delayed ACKs: 44 ms per C-STORE became under 1 ms against a default storescp.
/// With `tls.enabled` the connection is TLS (BCP 195 non-downgrading profile, server certificate verified against
/// `tls.trusted_certificates`, client certificate when `tls.certificate` is set) or nothing: there is no fallback
/// to plain TCP. The server's host name is not matched against its certificate (DCMTK does not do it).
/// Requirements: a DcmtkRuntime alive (data dictionary), SIGPIPE ignored by the process (a peer closing the
/// socket must not kill it). An uncompressed file may go out re-encoded in another uncompressed syntax; a
/// compressed one only in its own syntax: pixel data is never decoded here (`failed` in phase `negotiate`).
/// Not thread-safe: one instance per thread; distinct instances may send in parallel.
class DcmtkPacsSender final : public PacsSender {
 public:
  /// `node_ae_title` is our calling AE title when `destination.calling_ae_title` is empty. TLS set-up errors (a
  /// missing certificate file, ...) are reported by every send as a `failed` result in phase `prepare`.
  DcmtkPacsSender(config::DestinationConfig destination, std::string node_ae_title);
  ~DcmtkPacsSender() override;
  DcmtkPacsSender(const DcmtkPacsSender&) = delete;
  DcmtkPacsSender& operator=(const DcmtkPacsSender&) = delete;

  [[nodiscard]] SendResult send_once(const std::filesystem::path& file) override;
  [[nodiscard]] SendResult echo() override;
  void release_association() override;

 private:
  struct Transport;        // the transport layer (plain or TLS) and its set-up error
  struct OpenAssociation;  // an association kept for the next result of the same study (share_association)

  // Connects to the destination and requests `association` on `network` for one abstract syntax; the failure
  // when it is not established.
  std::optional<SendResult> request(detail::RequestorNetwork& network, detail::Association& association,
                                    const std::string& abstract_syntax,
                                    const std::vector<std::string>& transfer_syntaxes);
  // Requests a fresh association for `file` into open_ and picks the context; the failure when there is none.
  std::optional<SendResult> open_for(detail::FileToSend& file, unsigned char& context);

  config::DestinationConfig destination_;
  std::string calling_ae_title_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<OpenAssociation> open_;
};

/// A factory for the Forwarder that builds a DcmtkPacsSender per destination with `node_ae_title` as default
/// calling AE title.
[[nodiscard]] std::function<std::unique_ptr<PacsSender>(const config::DestinationConfig&)> dcmtk_sender_factory(
    std::string node_ae_title);

}  // namespace creni::forward
