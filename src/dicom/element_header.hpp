#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <cstdint>
#include <string>

namespace creni::dicom::element_header {

// The pieces of a data element header (PS3.5 section 7.1) that the node's own byte walkers share: they read
// untrusted files in the node process without DCMTK, so each stays small and checked by the mutation test.

inline constexpr std::uint32_t kUndefinedLength = 0xFFFFFFFF;

enum class Encoding { implicit_little, explicit_little, explicit_big };

inline Encoding encoding_of(const std::string& transfer_syntax_uid) {
  if (transfer_syntax_uid == UID_LittleEndianImplicitTransferSyntax) return Encoding::implicit_little;
  if (transfer_syntax_uid == UID_BigEndianExplicitTransferSyntax) return Encoding::explicit_big;
  // Every other syntax (explicit LE, deflated after inflation, the encapsulated ones) is Explicit VR Little Endian.
  return Encoding::explicit_little;
}

inline std::uint16_t read16(const std::uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<std::uint16_t>((p[0] << 8) | p[1]) : static_cast<std::uint16_t>(p[0] | (p[1] << 8));
}

inline std::uint32_t read32(const std::uint8_t* p, bool big_endian) {
  const std::uint32_t b0 = p[0], b1 = p[1], b2 = p[2], b3 = p[3];
  return big_endian ? (b0 << 24) | (b1 << 16) | (b2 << 8) | b3 : b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
}

// PS3.5 section 7.1.2: these VRs carry a 2-byte reserved field and a 4-byte length.
inline bool has_long_length(const std::uint8_t* vr) {
  static constexpr const char* kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* candidate : kLong) {
    if (vr[0] == static_cast<std::uint8_t>(candidate[0]) && vr[1] == static_cast<std::uint8_t>(candidate[1]))
      return true;
  }
  return false;
}

inline bool is_vr(const std::uint8_t* vr) { return vr[0] >= 'A' && vr[0] <= 'Z' && vr[1] >= 'A' && vr[1] <= 'Z'; }

}  // namespace creni::dicom::element_header
