#include "dcmtk_session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <dcmtk/dcmnet/cond.h>

#include <algorithm>

namespace creni::forward::detail {

bool set_no_delay(DcmNativeSocketType socket) {
  const int on = 1;
  return ::setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) == 0;
}

bool set_io_timeouts(DcmNativeSocketType socket, int seconds) {
  timeval timeout{};
  timeout.tv_sec = std::max(1, seconds);
  const bool send_ok = ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout) == 0;
  const bool receive_ok = ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) == 0;
  return send_ok && receive_ok;
}

bool set_quick_ack(DcmNativeSocketType socket) {
  const int on = 1;
  return ::setsockopt(socket, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on) == 0;
}

QuickAckConnection::QuickAckConnection(DcmNativeSocketType socket, DcmTransportConnection* connection)
    : DcmTransportConnection(socket), connection_(connection) {
  (void)set_quick_ack(socket);
}

QuickAckConnection::~QuickAckConnection() { delete connection_; }

ssize_t QuickAckConnection::read(void* buffer, size_t bytes) {
  const ssize_t got = connection_->read(buffer, bytes);
  if (got > 0) (void)set_quick_ack(getSocket());
  return got;
}

void QuickAckConnection::close() {
  connection_->close();
  setSocket(OFstatic_cast(DcmNativeSocketType, -1));
}

void QuickAckConnection::closeTransportConnection() {
  connection_->closeTransportConnection();
  setSocket(OFstatic_cast(DcmNativeSocketType, -1));
}

std::string condition_text(const OFCondition& condition) {
  OFString dumped;
  DimseCondition::dump(dumped, condition);
  // DCMTK puts each nested condition on its own line; the journal and logs want one line.
  std::string text;
  for (const char c : std::string(dumped.c_str())) {
    if (c == '\n') {
      text += "; ";
    } else {
      text += c;
    }
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == ';')) text.pop_back();
  return text;
}

RequestorNetwork::RequestorNetwork(int acse_timeout_s, DcmTransportLayer& layer) {
  condition_ = ASC_initializeNetwork(NET_REQUESTOR, 0, std::max(1, acse_timeout_s), &network_);
  if (condition_.good()) condition_ = ASC_setTransportLayer(network_, &layer, 0 /* we keep ownership */);
}

RequestorNetwork::~RequestorNetwork() {
  if (network_ != nullptr) (void)ASC_dropNetwork(&network_);
}

Association::~Association() {
  abort();
  if (association_ != nullptr) (void)ASC_destroyAssociation(&association_);
}

OFCondition Association::request(RequestorNetwork& network, T_ASC_Parameters* parameters, int acse_timeout_s) {
  T_ASC_Association* requested = nullptr;
  const OFCondition condition = ASC_requestAssociation(network.get(), parameters, &requested, nullptr, nullptr,
                                                       DUL_NOBLOCK, std::max(1, acse_timeout_s));
  // Once DCMTK has allocated the association it owns the parameters, even after a failure; before that (bad
  // arguments) they are still ours.
  if (requested != nullptr) {
    association_ = requested;
  } else {
    (void)ASC_destroyAssociationParameters(&parameters);
  }
  established_ = condition.good();
  return condition;
}

OFCondition Association::release() {
  if (!established_) return EC_Normal;
  const OFCondition condition = ASC_releaseAssociation(association_);
  if (condition.bad()) (void)ASC_abortAssociation(association_);
  established_ = false;
  return condition;
}

bool Association::usable() const {
  return established_ && association_ != nullptr && !ASC_dataWaiting(association_, 0);
}

void Association::abort() {
  if (!established_) return;
  (void)ASC_abortAssociation(association_);
  established_ = false;
}

std::string Association::reject_reason() const {
  if (association_ == nullptr || association_->params == nullptr) return "association rejected";
  T_ASC_RejectParameters reject{};
  if (ASC_getRejectParameters(association_->params, &reject).bad()) return "association rejected";
  OFString text;
  ASC_printRejectParameters(text, &reject);
  std::string line(text.c_str());
  std::replace(line.begin(), line.end(), '\n', ' ');
  return "association rejected: " + line;
}

}  // namespace creni::forward::detail
