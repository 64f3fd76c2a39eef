#include "creni/process/tag_rewriter.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

namespace creni::process {

namespace {

bool is_continuation_byte(char ch) { return (static_cast<unsigned char>(ch) & 0xC0) == 0x80; }

std::size_t length_in_characters(std::string_view text, bool utf8) {
  if (!utf8) return text.size();
  std::size_t count = 0;
  for (const char ch : text) count += is_continuation_byte(ch) ? 0 : 1;
  return count;
}

// The longest prefix of `text` with at most `characters` characters, never ending inside a UTF-8 sequence.
std::string_view prefix_of(std::string_view text, std::size_t characters, bool utf8) {
  if (!utf8) return text.substr(0, std::min(characters, text.size()));
  std::size_t seen = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (is_continuation_byte(text[i])) continue;
    if (seen == characters) return text.substr(0, i);
    ++seen;
  }
  return text;
}

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// SpecificCharacterSet (0008,0005) ISO_IR 192 is UTF-8; every other repertoire is handled byte-wise, which is exact
// for the single-byte sets and conservative (never longer) for the ISO 2022 multi-byte ones.
bool is_utf8(DcmDataset& dataset) {
  OFString charset;
  if (dataset.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset).bad()) return false;
  return charset.find("ISO_IR 192") != OFString_npos;
}

Status rewrite(DcmDataset& dataset, const DcmTagKey& tag, const char* keyword, std::string_view marker, bool utf8) {
  OFString current;
  // An absent or empty description is fine: it becomes the marker alone.
  (void)dataset.findAndGetOFStringArray(tag, current);
  const std::string updated = append_marker(std::string_view(current.c_str(), current.length()), marker, utf8);
  if (const OFCondition put = dataset.putAndInsertString(tag, updated.c_str()); put.bad()) {
    return make_error("internal_error", std::string("cannot set ") + keyword + ": " + put.text());
  }
  return {};
}

}  // namespace

std::string append_marker(std::string_view description, std::string_view marker, bool utf8, std::size_t max_length) {
  const std::string_view text = trimmed(description);
  if (marker.empty()) return std::string(prefix_of(text, max_length, utf8));
  if (text.empty()) return std::string(prefix_of(marker, max_length, utf8));
  if (ends_with(text, marker)) return std::string(prefix_of(text, max_length, utf8));

  const std::size_t marker_length = length_in_characters(marker, utf8) + 1;  // with its separating space
  if (marker_length >= max_length) return std::string(prefix_of(marker, max_length, utf8));
  const std::size_t room = max_length - marker_length;
  std::string result(trimmed(prefix_of(text, room, utf8)));
  if (!result.empty()) result += ' ';
  result.append(marker);
  return result;
}

Status TagRewriter::apply(ProcessingContext& context) {
  DcmDataset& dataset = context.instance.dataset();
  const bool utf8 = is_utf8(dataset);
  if (Status s = rewrite(dataset, DCM_StudyDescription, "StudyDescription", context.config.marker, utf8); !s) return s;
  return rewrite(dataset, DCM_SeriesDescription, "SeriesDescription", context.config.marker, utf8);
}

}  // namespace creni::process
