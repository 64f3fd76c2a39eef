#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <memory>
#include <mutex>

#include "creni/common/result.hpp"

namespace creni::ingest {

/// Owns DCMTK's acceptor network object (ASC_dropNetwork on destruction).
class AcceptorNetwork {
 public:
  /// Creates the network for sockets we accept ourselves: DCMTK opens no listening socket of its own, uses
  /// `acse_timeout_s` for its association timers and reads through QuickAckTransportLayer. Error "dcmtk_error".
  static Result<std::unique_ptr<AcceptorNetwork>> create(int acse_timeout_s);
  ~AcceptorNetwork();
  AcceptorNetwork(const AcceptorNetwork&) = delete;
  AcceptorNetwork& operator=(const AcceptorNetwork&) = delete;

  [[nodiscard]] T_ASC_Network* get() const { return network_; }

 private:
  explicit AcceptorNetwork(T_ASC_Network* network) : network_(network) {}
  T_ASC_Network* network_;
};

/// Held by whoever sets dcmExternalSocketHandle, until DCMTK has consumed it and it is reset.
std::mutex& external_socket_mutex();

}  // namespace creni::ingest
