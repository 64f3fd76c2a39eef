#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "creni/process/charset_text.hpp"
#include "creni/process/processor.hpp"

namespace creni::process {

/// Maximum length of an LO value such as StudyDescription (PS3.5 section 6.2): 64 characters.
inline constexpr std::size_t kMaxDescriptionLength = 64;

/// `description` with " <marker>" appended, shortened so that the result stays within `max_length` characters of
/// `charset` (PS3.5 section 6.2): the marker is kept whole and the original text is cut, never inside a character,
/// and under ISO 2022 back in the initial code set before the marker (CharsetText::prefix). A description that
/// already ends with the marker is returned unchanged, so processing twice does not grow it; an empty one becomes
/// the marker alone.
[[nodiscard]] std::string append_marker(std::string_view description, std::string_view marker,
                                        const CharsetText& charset, std::size_t max_length = kMaxDescriptionLength);
/// append_marker for UTF-8 (`utf8`) or a single-byte repertoire.
[[nodiscard]] std::string append_marker(std::string_view description, std::string_view marker, bool utf8,
                                        std::size_t max_length = kMaxDescriptionLength);

/// Step "describe": appends the marker to StudyDescription (0008,1030) and SeriesDescription (0008,103E), in the
/// data set's SpecificCharacterSet.
class TagRewriter final : public Processor {
 public:
  [[nodiscard]] std::string_view name() const override { return "describe"; }
  [[nodiscard]] Status apply(ProcessingContext& context) override;
};

}  // namespace creni::process
