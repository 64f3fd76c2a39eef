#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "creni/process/processor.hpp"

namespace creni::process {

/// Maximum length of an LO value such as StudyDescription (PS3.5 section 6.2): 64 characters.
inline constexpr std::size_t kMaxDescriptionLength = 64;

/// `description` with " <marker>" appended, shortened so that the result stays within `max_length` characters:
/// the marker is kept whole and the original text is cut (never inside a UTF-8 sequence when `utf8`). A description
/// that already ends with the marker is returned unchanged, so processing twice does not grow it; an empty one
/// becomes the marker alone. Characters are counted as code points when `utf8`, else as bytes.
[[nodiscard]] std::string append_marker(std::string_view description, std::string_view marker, bool utf8,
                                        std::size_t max_length = kMaxDescriptionLength);

/// Step "describe": appends the marker to StudyDescription (0008,1030) and SeriesDescription (0008,103E).
class TagRewriter final : public Processor {
 public:
  [[nodiscard]] std::string_view name() const override { return "describe"; }
  [[nodiscard]] Status apply(ProcessingContext& context) override;
};

}  // namespace creni::process
