#pragma once

// Internal to the forward module: RAII owners of DCMTK's requestor-side network objects and the transport layer
// that tunes each connected socket. Nothing here is thread-safe; each object belongs to one send on one thread.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dcmlayer.h>
#include <dcmtk/dcmnet/dcmtrans.h>

#include <string>
#include <utility>

#include "peer_socket.hpp"

namespace creni::forward::detail {

/// Sets TCP_NODELAY on a connected socket. Returns false (errno set) when the socket refused it.
bool set_no_delay(DcmNativeSocketType socket);

/// Bounds every blocking send and receive on the socket (SO_SNDTIMEO, SO_RCVTIMEO) to `seconds`.
bool set_io_timeouts(DcmNativeSocketType socket, int seconds);

/// Asks the kernel to acknowledge received data at once (TCP_QUICKACK). Linux drops back to delayed ACKs on its
/// own, so this is re-armed after every read.
bool set_quick_ack(DcmNativeSocketType socket);

/// Wraps the connection DCMTK made (plain or TLS) and re-arms TCP_QUICKACK after each read. Why: most PACS,
/// DCMTK-based ones and Orthanc among them, leave Nagle's algorithm on and write each response PDU in two parts;
/// the second part then waits for our ACK of the first, which Linux delays by 40 ms. Measured against a default
/// storescp: 44 ms per C-STORE with delayed ACKs, under 1 ms with either end fixed. Everything else is forwarded
/// unchanged; the wrapped connection is owned and closes the socket.
class QuickAckConnection final : public DcmTransportConnection {
 public:
  QuickAckConnection(DcmNativeSocketType socket, DcmTransportConnection* connection);
  ~QuickAckConnection() override;
  QuickAckConnection(const QuickAckConnection&) = delete;
  QuickAckConnection& operator=(const QuickAckConnection&) = delete;

  OFCondition serverSideHandshake() override { return connection_->serverSideHandshake(); }
  OFCondition clientSideHandshake() override { return connection_->clientSideHandshake(); }
  OFCondition renegotiate(const char* suite) override { return connection_->renegotiate(suite); }
  ssize_t read(void* buffer, size_t bytes) override;
  ssize_t write(void* buffer, size_t bytes) override { return connection_->write(buffer, bytes); }
  void close() override;
  void closeTransportConnection() override;
  unsigned long getPeerCertificateLength() override { return connection_->getPeerCertificateLength(); }
  unsigned long getPeerCertificate(void* buffer, unsigned long length) override {
    return connection_->getPeerCertificate(buffer, length);
  }
  OFBool networkDataAvailable(int timeout) override { return connection_->networkDataAvailable(timeout); }
  OFBool isTransparentConnection() override { return connection_->isTransparentConnection(); }
  OFString& dumpConnectionParameters(OFString& text) override { return connection_->dumpConnectionParameters(text); }

 private:
  DcmTransportConnection* connection_;  // owned (DCMTK's interface speaks raw pointers)
};

/// A DCMTK transport layer (plain `DcmTransportLayer` or `DcmTLSTransportLayer`) that gives DCMTK the connection
/// we made (peer_socket.hpp) and tunes it: DCMTK connects its socket to our hand-over point, then calls
/// createConnection() before the TLS handshake and before the first PDU; there the socket offered to `hand_over`
/// takes the place of DCMTK's, and TCP_NODELAY, the I/O timeouts and the quick-ACK wrapper go on it. Without an
/// offered socket no connection is made (DCMTK reports a TCP initialisation error): DCMTK never talks to the
/// hand-over point. The global alternative for TCP_NODELAY, the environment variable read by DCMTK at connect
/// time, would mean setenv() from a thread. With `secure_only` every connection is asked for the secure layer, so
/// a TLS layer never hands out a plain one.
template <class Layer>
class TunedTransportLayer final : public Layer {
 public:
  template <class... LayerArguments>
  TunedTransportLayer(SocketHandOver& hand_over, int io_timeout_s, bool secure_only, LayerArguments&&... arguments)
      : Layer(std::forward<LayerArguments>(arguments)...),
        hand_over_(hand_over),
        io_timeout_s_(io_timeout_s),
        secure_only_(secure_only) {}

  DcmTransportConnection* createConnection(DcmNativeSocketType socket, OFBool use_secure_layer) override {
    if (!hand_over_.take_over(socket)) return nullptr;
    // Failing to tune is not fatal: the send still works, only slower or with DCMTK's default timeouts.
    (void)set_no_delay(socket);
    DcmTransportConnection* connection = Layer::createConnection(socket, secure_only_ ? OFTrue : use_secure_layer);
    if (connection == nullptr) return nullptr;
    auto* tuned = new QuickAckConnection(socket, connection);
    // DcmTransportConnection's constructor applies DCMTK's process-wide socket timeouts; ours go after it.
    (void)set_io_timeouts(socket, io_timeout_s_);
    return tuned;
  }

 private:
  SocketHandOver& hand_over_;
  int io_timeout_s_;
  bool secure_only_;
};

/// DCMTK's condition text, nested conditions included, on one line.
std::string condition_text(const OFCondition& condition);

/// A requestor network (ASC_initializeNetwork / ASC_dropNetwork) using `layer`, which it does not own and
/// which must outlive it.
class RequestorNetwork {
 public:
  RequestorNetwork(int acse_timeout_s, DcmTransportLayer& layer);
  ~RequestorNetwork();
  RequestorNetwork(const RequestorNetwork&) = delete;
  RequestorNetwork& operator=(const RequestorNetwork&) = delete;

  /// The result of setting the network up; nothing else may be used when it is bad.
  [[nodiscard]] const OFCondition& condition() const { return condition_; }
  [[nodiscard]] T_ASC_Network* get() const { return network_; }

 private:
  T_ASC_Network* network_ = nullptr;
  OFCondition condition_;
};

/// One association from request to release. The destructor aborts an association that is still established
/// (never left half-open) and destroys it, parameters included.
class Association {
 public:
  Association() = default;
  ~Association();
  Association(const Association&) = delete;
  Association& operator=(const Association&) = delete;

  /// Requests the association with `parameters` (taken over in every case), waiting at most `acse_timeout_s`
  /// for the answer.
  [[nodiscard]] OFCondition request(RequestorNetwork& network, T_ASC_Parameters* parameters, int acse_timeout_s);

  /// Orderly release (A-RELEASE); aborts instead when the release fails. Returns the release's condition.
  OFCondition release();

  /// A-ABORT, when still established.
  void abort();

  /// The association's "rejected" parameters as text (after a DUL_ASSOCIATIONREJECTED request).
  [[nodiscard]] std::string reject_reason() const;

  /// Still up, as far as we know: requested successfully and neither released nor aborted by us, and the peer
  /// has sent nothing unasked since (a peer's A-RELEASE-RQ, A-ABORT or a closed connection is waiting data).
  [[nodiscard]] bool usable() const;

  [[nodiscard]] T_ASC_Association* get() const { return association_; }
  [[nodiscard]] T_ASC_Parameters* parameters() const { return association_ != nullptr ? association_->params : nullptr; }

 private:
  T_ASC_Association* association_ = nullptr;
  bool established_ = false;
};

}  // namespace creni::forward::detail
