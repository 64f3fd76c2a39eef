#include "creni/process/tag_rewriter.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

namespace creni::process {

namespace {

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\0')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// The repertoire of the data set's text values: SpecificCharacterSet (0008,0005) as stored, all values.
CharsetText charset_of(DcmDataset& dataset) {
  OFString charset;
  (void)dataset.findAndGetOFStringArray(DCM_SpecificCharacterSet, charset);
  return CharsetText::for_specific_character_set(std::string_view(charset.c_str(), charset.length()));
}

Status rewrite(DcmDataset& dataset, const DcmTagKey& tag, const char* keyword, std::string_view marker,
               const CharsetText& charset) {
  OFString current;
  // An absent or empty description is fine: it becomes the marker alone.
  (void)dataset.findAndGetOFStringArray(tag, current);
  const std::string updated = append_marker(std::string_view(current.c_str(), current.length()), marker, charset);
  if (const OFCondition put = dataset.putAndInsertString(tag, updated.c_str()); put.bad()) {
    return make_error("internal_error", std::string("cannot set ") + keyword + ": " + put.text());
  }
  return {};
}

}  // namespace

std::string append_marker(std::string_view description, std::string_view marker, bool utf8, std::size_t max_length) {
  return append_marker(description, marker, utf8 ? CharsetText::utf8() : CharsetText::single_byte(), max_length);
}

std::string append_marker(std::string_view description, std::string_view marker, const CharsetText& charset,
                          std::size_t max_length) {
  const std::string_view text = trimmed(description);
  if (marker.empty()) return charset.prefix(text, max_length);
  if (text.empty()) return charset.prefix(marker, max_length);
  if (ends_with(text, marker)) return charset.prefix(text, max_length);

  const std::size_t marker_length = charset.length_in_characters(marker) + 1;  // with its separating space
  if (marker_length >= max_length) return charset.prefix(marker, max_length);
  const std::size_t room = max_length - marker_length;
  // The cut text ends in the initial code set (ISO 2022), so the space and the marker are read as ASCII.
  std::string result(trimmed(charset.prefix(text, room)));
  if (!result.empty()) result += ' ';
  result.append(marker);
  return result;
}

Status TagRewriter::apply(ProcessingContext& context) {
  DcmDataset& dataset = context.instance.dataset();
  const CharsetText charset = charset_of(dataset);
  if (Status s = rewrite(dataset, DCM_StudyDescription, "StudyDescription", context.config.marker, charset); !s) {
    return s;
  }
  return rewrite(dataset, DCM_SeriesDescription, "SeriesDescription", context.config.marker, charset);
}

}  // namespace creni::process
