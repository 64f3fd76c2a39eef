#include "creni/forward/store_status.hpp"

#include <cstdio>

namespace creni::forward {

namespace {

std::string hex(std::uint16_t status) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%04X", static_cast<unsigned>(status));
  return text;
}

// Named codes of PS3.4 B.2.3 (Storage) and PS3.7 C (general statuses); the rest are named by their range.
const char* known_meaning(std::uint16_t status) {
  switch (status) {
    case 0x0000: return "success";
    case 0x0001: return "warning: requested optional attributes are not supported";
    case 0x0107: return "warning: attribute list error";
    case 0x0110: return "processing failure";
    case 0x0111: return "duplicate SOP instance";
    case 0x0116: return "warning: attribute value out of range";
    case 0x0117: return "invalid object instance";
    case 0x0122: return "SOP class not supported";
    case 0x0124: return "not authorized";
    case 0x0210: return "duplicate invocation";
    case 0x0211: return "unrecognized operation";
    case 0x0212: return "mistyped argument";
    case 0xB000: return "warning: coercion of data elements";
    case 0xB006: return "warning: elements discarded";
    case 0xB007: return "warning: data set does not match SOP class";
    default: return nullptr;
  }
}

const char* range_meaning(std::uint16_t status) {
  switch (status & 0xF000) {
    case 0xA000:
      if ((status & 0xFF00) == 0xA700) return "refused: out of resources";
      if ((status & 0xFF00) == 0xA900) return "error: data set does not match SOP class";
      return "failure";
    case 0xB000: return "warning";
    case 0xC000: return "error: cannot understand";
    default: return "failure";
  }
}

}  // namespace

StoreStatusClass classify_store_status(std::uint16_t status) {
  if (status == 0x0000) return StoreStatusClass::success;
  if (status == 0x0111) return StoreStatusClass::duplicate;
  if (status == 0x0001 || status == 0x0107 || status == 0x0116) return StoreStatusClass::warning;
  if ((status & 0xF000) == 0xB000) return StoreStatusClass::warning;
  return StoreStatusClass::failure;
}

std::string describe_store_status(std::uint16_t status) {
  const char* meaning = known_meaning(status);
  return hex(status) + " " + (meaning != nullptr ? meaning : range_meaning(status));
}

}  // namespace creni::forward
