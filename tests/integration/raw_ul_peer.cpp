#include "raw_ul_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>

namespace creni::testing {

namespace {

using Clock = std::chrono::steady_clock;

void put16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xFF));
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v & 0xFFFF));
}
std::string item(std::uint8_t type, const std::string& body) {
  std::string out(1, static_cast<char>(type));
  out.push_back('\0');
  put16(out, static_cast<std::uint16_t>(body.size()));
  return out + body;
}
std::string ae_field(std::string ae) {
  ae.resize(16, ' ');
  return ae;
}
std::string presentation_context(std::uint8_t id, const std::string& abstract_syntax) {
  std::string body;
  body.push_back(static_cast<char>(id));
  body.append(3, '\0');
  body += item(0x30, abstract_syntax);
  body += item(0x40, "1.2.840.10008.1.2");
  return item(0x20, body);
}

// Implicit VR little endian element (PS3.5 section 7.1.3), values padded to even length.
void element(std::string& out, std::uint16_t group, std::uint16_t elem, std::string value, char pad = '\0') {
  if (value.size() % 2 != 0) value.push_back(pad);
  const auto le16 = [&](std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
  };
  le16(group);
  le16(elem);
  le16(static_cast<std::uint16_t>(value.size() & 0xFFFF));
  le16(static_cast<std::uint16_t>(value.size() >> 16));
  out += value;
}
std::string us(std::uint16_t v) { return std::string{static_cast<char>(v & 0xFF), static_cast<char>(v >> 8)}; }

}  // namespace

RawUlPeer::RawUlPeer(std::uint16_t port, const std::string& source_address, const std::string& target) {
  const bool ipv6 = target.find(':') != std::string::npos;
  fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_storage local{};
  sockaddr_storage remote{};
  socklen_t length = 0;
  if (ipv6) {
    auto& from = reinterpret_cast<sockaddr_in6&>(local);
    auto& to = reinterpret_cast<sockaddr_in6&>(remote);
    from.sin6_family = to.sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, source_address.c_str(), &from.sin6_addr);
    ::inet_pton(AF_INET6, target.c_str(), &to.sin6_addr);
    to.sin6_port = htons(port);
    length = sizeof(sockaddr_in6);
  } else {
    auto& from = reinterpret_cast<sockaddr_in&>(local);
    auto& to = reinterpret_cast<sockaddr_in&>(remote);
    from.sin_family = to.sin_family = AF_INET;
    ::inet_pton(AF_INET, source_address.c_str(), &from.sin_addr);
    ::inet_pton(AF_INET, target.c_str(), &to.sin_addr);
    to.sin_port = htons(port);
    length = sizeof(sockaddr_in);
  }
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), length) != 0 ||
      ::connect(fd_, reinterpret_cast<sockaddr*>(&remote), length) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawUlPeer::~RawUlPeer() {
  if (fd_ >= 0) ::close(fd_);
}

std::string RawUlPeer::associate_rq(const std::string& calling_ae, const std::string& called_ae) {
  std::string body;
  put16(body, 1);  // protocol version
  body.append(2, '\0');
  body += ae_field(called_ae) + ae_field(calling_ae);
  body.append(32, '\0');
  body += item(0x10, "1.2.840.10008.3.1.1.1");
  body += presentation_context(1, "1.2.840.10008.5.1.4.1.1.2");
  body += presentation_context(3, "1.2.840.10008.1.1");
  std::string max_length;
  put32(max_length, 16384);
  body += item(0x50, item(0x51, max_length));
  std::string pdu{0x01, 0x00};
  put32(pdu, static_cast<std::uint32_t>(body.size()));
  return pdu + body;
}

std::string RawUlPeer::p_data(std::uint8_t context_id, std::uint8_t control, const std::string& value) {
  std::string pdv;
  put32(pdv, static_cast<std::uint32_t>(value.size() + 2));
  pdv.push_back(static_cast<char>(context_id));
  pdv.push_back(static_cast<char>(control));
  pdv += value;
  std::string pdu{0x04, 0x00};
  put32(pdu, static_cast<std::uint32_t>(pdv.size()));
  return pdu + pdv;
}

std::string RawUlPeer::c_store_rq(const std::string& sop_class, const std::string& sop_instance) {
  std::string rest;
  element(rest, 0x0000, 0x0002, sop_class);
  element(rest, 0x0000, 0x0100, us(0x0001));
  element(rest, 0x0000, 0x0110, us(1));
  element(rest, 0x0000, 0x0700, us(0));
  element(rest, 0x0000, 0x0800, us(0x0000));  // a data set follows
  element(rest, 0x0000, 0x1000, sop_instance);
  std::string command;
  std::string length;
  length.push_back(static_cast<char>(rest.size() & 0xFF));
  length.push_back(static_cast<char>((rest.size() >> 8) & 0xFF));
  length.push_back(static_cast<char>((rest.size() >> 16) & 0xFF));
  length.push_back(static_cast<char>(rest.size() >> 24));
  element(command, 0x0000, 0x0000, length);
  return command + rest;
}

bool RawUlPeer::send(const std::string& bytes) const {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

std::string RawUlPeer::read_pdu(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  std::string got;
  std::size_t wanted = 6;
  while (got.size() < wanted) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "";
    pollfd readable{fd_, POLLIN, 0};
    if (::poll(&readable, 1, static_cast<int>(left)) <= 0) continue;
    std::array<char, 4096> buffer{};
    const ssize_t n = ::recv(fd_, buffer.data(), std::min(buffer.size(), wanted - got.size()), 0);
    if (n <= 0) return "";
    got.append(buffer.data(), static_cast<std::size_t>(n));
    if (got.size() == 6) {
      const auto* p = reinterpret_cast<const unsigned char*>(got.data());
      wanted = 6 + ((static_cast<std::size_t>(p[2]) << 24) | (p[3] << 16) | (p[4] << 8) | p[5]);
    }
  }
  return got;
}

int RawUlPeer::associate(const std::string& calling_ae, std::chrono::milliseconds timeout) {
  if (!send(associate_rq(calling_ae, "CRENI"))) return 0;
  const std::string answer = read_pdu(timeout);
  return answer.empty() ? 0 : static_cast<unsigned char>(answer[0]);
}

bool RawUlPeer::closed_by_peer_within(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    pollfd readable{fd_, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&readable, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) continue;
    std::array<char, 4096> buffer{};
    if (::recv(fd_, buffer.data(), buffer.size(), 0) <= 0) return true;
  }
  return false;
}

}  // namespace creni::testing
