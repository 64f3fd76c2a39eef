#include "creni/process/tag_rewriter.hpp"

#include <gtest/gtest.h>

namespace creni::process {
namespace {

std::size_t code_points(const std::string& text) {
  std::size_t count = 0;
  for (const char ch : text) count += (static_cast<unsigned char>(ch) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

TEST(AppendMarker, appends_the_marker_after_a_space) {
  EXPECT_EQ(append_marker("CT HEAD", "ScreenedByAI", false), "CT HEAD ScreenedByAI");
}

TEST(AppendMarker, gives_the_marker_alone_to_an_empty_description) {
  EXPECT_EQ(append_marker("", "ScreenedByAI", false), "ScreenedByAI");
  EXPECT_EQ(append_marker("   ", "ScreenedByAI", false), "ScreenedByAI");
}

TEST(AppendMarker, keeps_description_within_64_chars_and_the_marker_whole) {
  const std::string long_text(70, 'A');
  const std::string result = append_marker(long_text, "ScreenedByAI", false);
  EXPECT_EQ(result.size(), 64u);
  EXPECT_EQ(result.substr(result.size() - 13), " ScreenedByAI");
}

TEST(AppendMarker, is_idempotent) {
  const std::string once = append_marker("CT HEAD", "ScreenedByAI", false);
  EXPECT_EQ(append_marker(once, "ScreenedByAI", false), once);
}

TEST(AppendMarker, never_cuts_a_utf8_character_and_counts_characters) {
  std::string text;
  for (int i = 0; i < 60; ++i) text += "\xC3\xA9";  // é, two bytes each
  const std::string result = append_marker(text, "ScreenedByAI", true);
  EXPECT_EQ(code_points(result), 64u);
  EXPECT_EQ(result.substr(result.size() - 13), " ScreenedByAI");
  EXPECT_EQ(result.size(), 51u * 2 + 13);
}

TEST(AppendMarker, trims_trailing_padding_before_appending) {
  EXPECT_EQ(append_marker("CHEST ", "ScreenedByAI", false), "CHEST ScreenedByAI");
}

TEST(AppendMarker, cuts_an_over_long_marker_to_the_limit) {
  EXPECT_EQ(append_marker("X", std::string(80, 'M'), false), std::string(64, 'M'));
}

}  // namespace
}  // namespace creni::process
