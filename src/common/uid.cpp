#include "creni/common/uid.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace creni::uid {

bool is_valid(std::string_view value) {
  if (value.empty() || value.size() > kMaxLength) return false;
  std::size_t component_start = 0;
  for (std::size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || value[i] == '.') {
      const std::size_t length = i - component_start;
      if (length == 0) return false;
      if (length > 1 && value[component_start] == '0') return false;
      component_start = i + 1;
    } else if (value[i] < '0' || value[i] > '9') {
      return false;
    }
  }
  return true;
}

std::string strip_padding(std::string_view value, bool* was_padded_with_space) {
  if (was_padded_with_space != nullptr) *was_padded_with_space = false;
  if (!value.empty() && value.back() == '\0') value.remove_suffix(1);
  while (!value.empty() && value.back() == ' ') {
    value.remove_suffix(1);
    if (was_padded_with_space != nullptr) *was_padded_with_space = true;
  }
  return std::string(value);
}

Result<std::string> validated(std::string_view value, std::string_view what) {
  std::string cleaned = strip_padding(value);
  if (cleaned.empty()) return make_error("invalid_uid", std::string(what) + " is empty");
  if (!is_valid(cleaned)) {
    std::string shown;
    for (const char c : cleaned.substr(0, kMaxLength + 8)) {
      shown += (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    return make_error("invalid_uid", std::string(what) + " '" + shown + "' is not a valid UID (PS3.5 9.1)");
  }
  return cleaned;
}

namespace {

std::array<unsigned char, 32> sha256(std::string_view data) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

// Decimal rendering of a 128-bit unsigned integer held as two 64-bit halves.
std::string to_decimal(std::uint64_t high, std::uint64_t low) {
  if (high == 0 && low == 0) return "0";
  std::string digits;
  while (high != 0 || low != 0) {
    // Long division of (high:low) by 10, 32 bits at a time to stay within 64-bit arithmetic.
    std::uint64_t remainder = 0;
    std::uint32_t parts[4] = {static_cast<std::uint32_t>(high >> 32), static_cast<std::uint32_t>(high),
                              static_cast<std::uint32_t>(low >> 32), static_cast<std::uint32_t>(low)};
    for (auto& part : parts) {
      const std::uint64_t current = (remainder << 32) | part;
      part = static_cast<std::uint32_t>(current / 10);
      remainder = current % 10;
    }
    high = (static_cast<std::uint64_t>(parts[0]) << 32) | parts[1];
    low = (static_cast<std::uint64_t>(parts[2]) << 32) | parts[3];
    digits.insert(digits.begin(), static_cast<char>('0' + remainder));
  }
  return digits;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::study: return "study";
    case Role::series: return "series";
    case Role::sop_instance: return "sop";
  }
  return "?";
}

}  // namespace

std::string derive(Role role, std::string_view original) {
  std::string input = "creni-node/";
  input += role_name(role);
  input += '/';
  input += original;
  const auto digest = sha256(input);
  std::uint64_t high = 0;
  std::uint64_t low = 0;
  for (int i = 0; i < 8; ++i) high = (high << 8) | digest[i];
  for (int i = 8; i < 16; ++i) low = (low << 8) | digest[i];
  return "2.25." + to_decimal(high, low);
}

}  // namespace creni::uid
