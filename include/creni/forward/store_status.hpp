#pragma once

#include <cstdint>
#include <string>

namespace creni::forward {

/// What a C-STORE response status means for the forward (PS3.4 section B.2.3, PS3.7 annex C).
enum class StoreStatusClass {
  success,    ///< 0x0000
  warning,    ///< 0x0001, 0x0107, 0x0116, 0xB000-0xBFFF: stored, with a remark
  duplicate,  ///< 0x0111: the PACS already holds this SOP instance (treated as sent)
  failure,    ///< everything else: 0xA7xx, 0xA9xx, 0xCxxx, 0x0110, 0x0122, 0x0124, ...
};

/// Classifies a C-STORE response status. Pure function, thread-safe.
[[nodiscard]] StoreStatusClass classify_store_status(std::uint16_t status);

/// A short human-readable name of the status, e.g. "0xA700 out of resources" or "0xB000 coercion of data
/// elements". Unknown codes are named by their class ("0xA7FF refused: out of resources").
[[nodiscard]] std::string describe_store_status(std::uint16_t status);

}  // namespace creni::forward
