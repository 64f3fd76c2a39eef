#pragma once

#include <string>
#include <string_view>

#include "creni/common/result.hpp"

namespace creni::uid {

/// Maximum length of a UID value (PS3.5 section 9.1).
inline constexpr std::size_t kMaxLength = 64;

/// True when `value` is a valid UID per PS3.5 section 9.1: 1..64 characters, components of digits separated by
/// single dots, no empty component and no leading zero in a multi-digit component. Such a value can never be
/// ".", ".." or contain a path separator, which is why paths are built only from validated UIDs.
[[nodiscard]] bool is_valid(std::string_view value);

/// Removes the padding a UID may legally carry on the wire (one trailing NUL, PS3.5 section 9.1) and the
/// common non-conformant trailing spaces. Returns the cleaned value; `was_padded_with_space` tells the caller to
/// log a warning.
[[nodiscard]] std::string strip_padding(std::string_view value, bool* was_padded_with_space = nullptr);

/// Validates and returns the cleaned UID, or Error{"invalid_uid", "<what>: <reason>"}.
[[nodiscard]] Result<std::string> validated(std::string_view value, std::string_view what);

/// What a derived UID stands for; part of the derivation so that one original value used in two roles never
/// yields the same derived UID.
enum class Role { study, series, sop_instance };

/// Deterministic derived UID: "2.25." followed by the decimal form of a 128-bit value taken from SHA-256 of the
/// role and the original UID (PS3.5 section B.2, UUID-derived form). Same input, same output, at most 44 characters.
[[nodiscard]] std::string derive(Role role, std::string_view original);

}  // namespace creni::uid
