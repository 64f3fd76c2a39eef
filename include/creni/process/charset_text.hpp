#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace creni::process {

/// Character-aware length and truncation of DICOM text values in the repertoire that SpecificCharacterSet
/// (0008,0005) names (PS3.3 section C.12.1.1.2, PS3.5 section 6.1): single-byte sets (default, ISO_IR 100, ...),
/// UTF-8 (ISO_IR 192), GB18030/GBK, and ISO 2022 code extensions (IR 87 and IR 159 Japanese, IR 149 Korean, IR 58
/// Chinese, IR 13 katakana, mixed). Value lengths of text VRs are in characters (PS3.5 section 6.2): escape
/// sequences count as none, a two-byte kanji as one. A cut never falls inside a character or an escape sequence,
/// and an ISO 2022 value cut while another set was invoked returns to the initial one (ESC ( B, or ESC ( J under
/// ISO 2022 IR 13) at its end, as PS3.5 section 6.1.2.5.3 requires before the end of a value or line.
/// A plain value type; cheap to copy.
class CharsetText {
 public:
  /// The repertoire for a SpecificCharacterSet value as stored (backslash-separated; empty = default repertoire).
  [[nodiscard]] static CharsetText for_specific_character_set(std::string_view specific_character_set);
  /// One byte per character.
  [[nodiscard]] static CharsetText single_byte() { return CharsetText(Encoding::single_byte, {}); }
  /// UTF-8.
  [[nodiscard]] static CharsetText utf8() { return CharsetText(Encoding::utf8, {}); }

  /// Number of characters in `text` (escape sequences count as none).
  [[nodiscard]] std::size_t length_in_characters(std::string_view text) const;
  /// The longest prefix of `text` with at most `characters` characters, never ending inside a character or an
  /// escape sequence, without a trailing escape sequence that introduces nothing, and ending in the initial code
  /// set (the escape sequence that returns to it appended when needed).
  [[nodiscard]] std::string prefix(std::string_view text, std::size_t characters) const;

 private:
  enum class Encoding { single_byte, utf8, gb18030, iso2022 };
  CharsetText(Encoding encoding, std::string initial_g0) : encoding_(encoding), initial_g0_(std::move(initial_g0)) {}

  Encoding encoding_;
  std::string initial_g0_;  // ISO 2022: the escape sequence designating the initial G0 set
};

}  // namespace creni::process
