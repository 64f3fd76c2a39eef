#include "quick_ack_transport.hpp"

#include <dcmtk/dcmnet/dcmtrans.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace creni::ingest {

namespace {

class QuickAckConnection final : public DcmTCPConnection {
 public:
  explicit QuickAckConnection(DcmNativeSocketType open_socket) : DcmTCPConnection(open_socket) {}

  ssize_t read(void* buffer, size_t size) override {
    const ssize_t got = DcmTCPConnection::read(buffer, size);
    // Linux leaves quick-ACK mode on its own after a while; setting it again after each read keeps it on.
    const int on = 1;
    (void)::setsockopt(getSocket(), IPPROTO_TCP, TCP_QUICKACK, &on, sizeof(on));
    return got;
  }
};

}  // namespace

DcmTransportConnection* QuickAckTransportLayer::createConnection(DcmNativeSocketType open_socket,
                                                                 OFBool use_secure_layer) {
  if (use_secure_layer) return nullptr;
  return new QuickAckConnection(open_socket);
}

}  // namespace creni::ingest
