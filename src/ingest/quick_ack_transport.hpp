#pragma once

#include <dcmtk/dcmnet/dcmlayer.h>

namespace creni::ingest {

/// DCMTK transport layer for plain TCP whose connections re-arm TCP_QUICKACK after every read. Senders that leave
/// Nagle's algorithm on (DCMTK's default) otherwise stall on the receiver's 40 ms delayed ACK after each small
/// write; acknowledging at once gives them full speed (DESIGN.md, performance facts). Secure layers are refused
/// (createConnection returns nullptr for them). Stateless, so one instance may serve every association.
class QuickAckTransportLayer final : public DcmTransportLayer {
 public:
  DcmTransportConnection* createConnection(DcmNativeSocketType open_socket, OFBool use_secure_layer) override;
};

}  // namespace creni::ingest
