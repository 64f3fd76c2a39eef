// DCMTK's acceptor network for the sockets the SCP accepts itself, and the lock around DCMTK's one process-wide
// external socket handle.

#include "acceptor_network.hpp"

#include <fcntl.h>

#include <string>

#include "quick_ack_transport.hpp"
#include "unique_fd.hpp"

namespace creni::ingest {

// dcmExternalSocketHandle is one process-wide value read by the next DCMTK accept: whoever sets it holds this lock
// until DCMTK has consumed it and it is reset.
std::mutex& external_socket_mutex() {
  static std::mutex mutex;
  return mutex;
}

Result<std::unique_ptr<AcceptorNetwork>> AcceptorNetwork::create(int acse_timeout_s) {
  T_ASC_Network* network = nullptr;
  OFCondition created;
  {
    // With no external socket set, ASC_initializeNetwork opens a listening socket of its own on every interface
    // (port 0 here) that nobody would ever serve. Any open descriptor suppresses that; it is only tested.
    const UniqueFd placeholder(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const std::lock_guard lock(external_socket_mutex());
    dcmExternalSocketHandle.set(placeholder.get());
    created = ASC_initializeNetwork(NET_ACCEPTOR, 0, acse_timeout_s, &network);
    dcmExternalSocketHandle.set(DCMNET_INVALID_SOCKET);
  }
  if (created.bad() || network == nullptr) {
    return make_error("dcmtk_error", std::string("ASC_initializeNetwork: ") + created.text());
  }
  std::unique_ptr<AcceptorNetwork> owned(new AcceptorNetwork(network));
  const OFCondition layered = ASC_setTransportLayer(network, new QuickAckTransportLayer(), 1);
  if (layered.bad()) return make_error("dcmtk_error", std::string("ASC_setTransportLayer: ") + layered.text());
  return owned;
}

AcceptorNetwork::~AcceptorNetwork() { ASC_dropNetwork(&network_); }

}  // namespace creni::ingest
