#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace creni::testing {

/// A DICOM peer written with plain sockets (PS3.8 PDUs built byte by byte), for what DCMTK's tools cannot do:
/// trickle, stall mid-message, come from another loopback address, or use any bytes as an AE title.
/// One TCP connection; closed on destruction. Never blocks longer than the timeouts it is given.
class RawUlPeer {
 public:
  /// Connects to `target`:`port` from `source_address` (any 127/8 address is local); IPv6 when they are IPv6.
  RawUlPeer(std::uint16_t port, const std::string& source_address = "127.0.0.1",
            const std::string& target = "127.0.0.1");
  ~RawUlPeer();
  RawUlPeer(const RawUlPeer&) = delete;
  RawUlPeer& operator=(const RawUlPeer&) = delete;

  [[nodiscard]] bool connected() const { return fd_ >= 0; }

  /// An A-ASSOCIATE-RQ proposing CT Image Storage and Verification (presentation contexts 1 and 3) in implicit VR
  /// little endian. `calling_ae` is used as is, whatever its bytes (padded or cut to 16).
  [[nodiscard]] static std::string associate_rq(const std::string& calling_ae, const std::string& called_ae);
  /// A P-DATA-TF PDU with one PDV; `control` 0x03 = last fragment of a command, 0x02 = last of a data set.
  [[nodiscard]] static std::string p_data(std::uint8_t context_id, std::uint8_t control, const std::string& value);
  /// The command set of a C-STORE-RQ (implicit VR little endian), data set present.
  [[nodiscard]] static std::string c_store_rq(const std::string& sop_class, const std::string& sop_instance);

  bool send(const std::string& bytes) const;
  /// Reads one whole PDU (header + body) within `timeout`; empty when none came or the connection ended.
  [[nodiscard]] std::string read_pdu(std::chrono::milliseconds timeout) const;
  /// Sends the A-ASSOCIATE-RQ and returns the type of the answering PDU (0x02 AC, 0x03 RJ), 0 for none.
  [[nodiscard]] int associate(const std::string& calling_ae, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// True once the peer has closed its side (EOF or reset), waiting at most `timeout`; data is read and dropped.
  [[nodiscard]] bool closed_by_peer_within(std::chrono::milliseconds timeout) const;

 private:
  int fd_ = -1;
};

}  // namespace creni::testing
