#include "creni/process/charset_text.hpp"

#include <algorithm>
#include <vector>

namespace creni::process {

namespace {

constexpr char kEsc = '\x1B';

unsigned byte_at(std::string_view text, std::size_t i) { return static_cast<unsigned char>(text[i]); }

// The values of SpecificCharacterSet with surrounding spaces removed (value 1 may be empty).
std::vector<std::string_view> values_of(std::string_view specific_character_set) {
  std::vector<std::string_view> values;
  while (true) {
    const auto split = specific_character_set.find('\\');
    std::string_view value = specific_character_set.substr(0, split);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\0')) value.remove_suffix(1);
    values.push_back(value);
    if (split == std::string_view::npos) return values;
    specific_character_set.remove_prefix(split + 1);
  }
}

// ISO 2022 state: how many bytes a character takes in G0 (GL bytes) and G1 (GR bytes).
struct CodeState {
  int g0_width = 1;
  int g1_width = 1;
  std::string g0_escape;  // the designation that made G0 what it is
};

// Length of the escape sequence at `i` (ESC, intermediates 0x20-0x2F, final 0x30-0x7E); 0 when malformed.
std::size_t escape_length(std::string_view text, std::size_t i) {
  std::size_t j = i + 1;
  while (j < text.size() && byte_at(text, j) >= 0x20 && byte_at(text, j) <= 0x2F) ++j;
  if (j >= text.size() || byte_at(text, j) < 0x30 || byte_at(text, j) > 0x7E) return 0;
  return j + 1 - i;
}

// Applies a designation escape (ISO 2022 / ECMA-35): "(" G0 94, ")" G1 94, "-" G1 96, "$" G0 94^2,
// "$(" G0 94^2, "$)" G1 94^2, "$-" G1 96^2.
void designate(std::string_view escape, CodeState& state) {
  const std::string_view intermediates = escape.substr(1, escape.size() - 2);
  const bool multi_byte = !intermediates.empty() && intermediates.front() == '$';
  const std::string_view target = multi_byte ? intermediates.substr(1) : intermediates;
  const int width = multi_byte ? 2 : 1;
  if (target.empty() || target == "(") {
    state.g0_width = width;
    state.g0_escape = std::string(escape);
  } else if (target == ")" || target == "-") {
    state.g1_width = width;
  }
}

// Width in bytes of the character at `i` (at least 1, at most what is left).
std::size_t utf8_width(std::string_view text, std::size_t i) {
  const unsigned lead = byte_at(text, i);
  std::size_t width = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
  // A sequence cut short in the input counts as what there is.
  std::size_t have = 1;
  while (have < width && i + have < text.size() && (byte_at(text, i + have) & 0xC0) == 0x80) ++have;
  return have;
}

std::size_t gb18030_width(std::string_view text, std::size_t i) {
  const unsigned lead = byte_at(text, i);
  if (lead < 0x81 || lead == 0xFF || i + 1 >= text.size()) return 1;
  const unsigned second = byte_at(text, i + 1);
  if (second >= 0x30 && second <= 0x39) return std::min<std::size_t>(4, text.size() - i);  // four-byte form
  return 2;
}

}  // namespace

CharsetText CharsetText::for_specific_character_set(std::string_view specific_character_set) {
  const auto values = values_of(specific_character_set);
  const bool code_extensions =
      values.size() > 1 || std::any_of(values.begin(), values.end(), [](std::string_view v) {
        return v.rfind("ISO 2022", 0) == 0;
      });
  if (code_extensions) {
    // The initial G0 set is value 1's: JIS X 0201 romaji for ISO 2022 IR 13, ASCII otherwise.
    return CharsetText(Encoding::iso2022, values.front() == "ISO 2022 IR 13" ? "\x1B(J" : "\x1B(B");
  }
  const std::string_view first = values.front();
  if (first == "ISO_IR 192") return utf8();
  if (first == "GB18030" || first == "GBK") return CharsetText(Encoding::gb18030, {});
  return single_byte();
}

std::size_t CharsetText::length_in_characters(std::string_view text) const {
  std::size_t count = 0;
  CodeState state;
  for (std::size_t i = 0; i < text.size();) {
    switch (encoding_) {
      case Encoding::single_byte:
        i += 1;
        break;
      case Encoding::utf8:
        i += utf8_width(text, i);
        break;
      case Encoding::gb18030:
        i += gb18030_width(text, i);
        break;
      case Encoding::iso2022:
        if (text[i] == kEsc) {
          if (const std::size_t length = escape_length(text, i); length > 0) {
            designate(text.substr(i, length), state);
            i += length;
            continue;  // not a character
          }
        }
        const unsigned b = byte_at(text, i);
        const int width = b >= 0x80 ? state.g1_width : (b > 0x20 && b < 0x7F ? state.g0_width : 1);
        i += std::min<std::size_t>(static_cast<std::size_t>(width), text.size() - i);
        break;
    }
    ++count;
  }
  return count;
}

std::string CharsetText::prefix(std::string_view text, std::size_t characters) const {
  CodeState state;
  state.g0_escape = initial_g0_;
  // Where the kept text ends, and the G0 designation in force there (escape sequences after the last kept
  // character introduce nothing and are left out).
  std::size_t end = 0;
  std::string g0_at_end = initial_g0_;
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t width = 1;
    switch (encoding_) {
      case Encoding::single_byte:
        break;
      case Encoding::utf8:
        width = utf8_width(text, i);
        break;
      case Encoding::gb18030:
        width = gb18030_width(text, i);
        break;
      case Encoding::iso2022: {
        if (text[i] == kEsc) {
          if (const std::size_t length = escape_length(text, i); length > 0) {
            designate(text.substr(i, length), state);
            i += length;
            continue;
          }
        }
        const unsigned b = byte_at(text, i);
        const int set_width = b >= 0x80 ? state.g1_width : (b > 0x20 && b < 0x7F ? state.g0_width : 1);
        width = std::min<std::size_t>(static_cast<std::size_t>(set_width), text.size() - i);
        break;
      }
    }
    if (count == characters) break;
    ++count;
    i += width;
    end = i;
    g0_at_end = state.g0_escape;
  }
  std::string kept(text.substr(0, end));
  if (encoding_ == Encoding::iso2022 && !g0_at_end.empty() && g0_at_end != initial_g0_) kept += initial_g0_;
  return kept;
}

}  // namespace creni::process
