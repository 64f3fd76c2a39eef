// The sender's transport, set up once per destination: the process-wide connect timeout, the socket I/O
// timeout, and the TLS layer's profile, trust and client certificate.

#include <dcmtk/dcmnet/dcmtrans.h>

#include <algorithm>
#include <mutex>

#include "dcmtk_send_steps.hpp"

namespace creni::forward::detail {

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

namespace {

std::string tls_file_error(const char* what, const std::filesystem::path& file, const OFCondition& condition) {
  return std::string("TLS: cannot load ") + what + " '" + file.string() + "': " + condition.text();
}

}  // namespace

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

}  // namespace creni::forward::detail
