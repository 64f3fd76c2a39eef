#pragma once

#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni::dicom {

/// The canonical content identity of a DICOM file: SHA-256 (64 lowercase hex digits) of its data set with the
/// pixel data decoded, written as implicit VR little endian with explicit lengths, without group lengths,
/// trailing padding or the meta header. The same instance sent in another transfer syntax (implicit or explicit,
/// little or big endian, deflated, losslessly compressed) or with another meta header gives the same identity; any
/// other difference in a value gives another. VRs are left out on purpose: a private element read from implicit VR
/// is UN, the same element read from explicit VR has its own VR, and both carry the same value.
/// Parses and decodes untrusted data: run it only in a contained process (DESIGN.md), as `creni-node
/// canonical-hash` does. Errors: "not_dicom" (cannot be parsed), "cannot_decode" (pixel data not decodable).
[[nodiscard]] Result<std::string> canonical_content_hash(const std::filesystem::path& file);

}  // namespace creni::dicom
