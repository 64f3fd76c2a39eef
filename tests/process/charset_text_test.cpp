// Character-set-aware cuts of text values (#12 point 6): real byte sequences in each repertoire, and every result
// decoded with DCMTK's own character set conversion (DcmSpecificCharacterSet, the code behind `dcmconv +U8`).
#include "creni/process/charset_text.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <gtest/gtest.h>

#include "creni/dicom/instance.hpp"
#include "creni/process/provenance.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"
#include "creni/process/tag_rewriter.hpp"

namespace creni::process {
namespace {

const std::string kEsc = "\x1B";
const std::string kToKanji = kEsc + "$B";      // JIS X 0208 into G0 (ISO 2022 IR 87)
const std::string kToAscii = kEsc + "(B";      // ASCII into G0
const std::string kToRomaji = kEsc + "(J";     // JIS X 0201 romaji into G0 (initial under ISO 2022 IR 13)
const std::string kToHangul = kEsc + "$)C";    // KS X 1001 into G1 (ISO 2022 IR 149)
const std::string kYama = ";3";                // 山 in JIS X 0208
const std::string kHong = "\xC8\xAB";          // 홍 in KS X 1001 (GR)
const std::string kZhong = "\xD6\xD0";         // 中 in GB18030 (two bytes)
const std::string kFourByte = "\x81\x39\xEE\x39";  // U+3400 in GB18030 (four bytes)
const std::string kMarker = "ScreenedByAI";

std::string repeated(const std::string& unit, int times) {
  std::string text;
  for (int i = 0; i < times; ++i) text += unit;
  return text;
}

// The value decoded strictly by pydicom (a decoder independent of ours), or a failure with its complaint.
::testing::AssertionResult decodes_with_pydicom(const std::string& specific_character_set, const std::string& value,
                                                std::string& utf8) {
  std::string hex;
  static const char kHex[] = "0123456789abcdef";
  for (const unsigned char byte : value) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 0x0F];
  }
  const std::string script =
      "import sys\n"
      "from pydicom import charset, config\n"
      "config.settings.reading_validation_mode = config.RAISE\n"
      "terms = sys.argv[1].split(chr(92))\n"
      "text = charset.decode_bytes(bytes.fromhex(sys.argv[2]), charset.convert_encodings(terms), set())\n"
      "sys.stdout.buffer.write(text.encode('utf-8'))\n";
  const auto decoded =
      harness::run_command({"/usr/bin/python3", "-c", script, specific_character_set, hex}, std::chrono::seconds(30));
  if (decoded.exit_code != 0) return ::testing::AssertionFailure() << "pydicom cannot decode it: " << decoded.err;
  utf8 = decoded.out;
  return ::testing::AssertionSuccess();
}

// The value decoded to UTF-8 by DCMTK's character set conversion (dcmconv +U8), or by pydicom for the sets
// Debian's DCMTK cannot convert (it uses glibc iconv, which has no ISO 2022 IR 87); a failure when it does not decode.
::testing::AssertionResult decodes(const std::string& specific_character_set, const std::string& value,
                                   std::string& utf8) {
  DcmSpecificCharacterSet converter;
  if (converter.selectCharacterSet(specific_character_set.c_str()).bad()) {
    return decodes_with_pydicom(specific_character_set, value, utf8);
  }
  OFString out;
  if (OFCondition converted = converter.convertString(OFString(value.data(), value.size()), out); converted.bad()) {
    return ::testing::AssertionFailure() << "DCMTK cannot decode it: " << converted.text();
  }
  utf8.assign(out.c_str(), out.length());
  return ::testing::AssertionSuccess();
}

std::size_t code_points(const std::string& utf8) {
  std::size_t count = 0;
  for (const char ch : utf8) count += (static_cast<unsigned char>(ch) & 0xC0) != 0x80 ? 1 : 0;
  return count;
}

// Appends the marker to `description` in `charset`, checks the bytes, and that DCMTK decodes 64 characters.
void expect_marked(const std::string& specific_character_set, const std::string& description,
                   const std::string& expected) {
  const std::string result =
      append_marker(description, kMarker, CharsetText::for_specific_character_set(specific_character_set));
  EXPECT_EQ(result, expected);
  std::string utf8;
  ASSERT_TRUE(decodes(specific_character_set, result, utf8));
  EXPECT_EQ(code_points(utf8), kMaxDescriptionLength) << utf8;
  EXPECT_EQ(utf8.substr(utf8.size() - kMarker.size() - 1), " " + kMarker) << utf8;
}

TEST(CharsetText, iso_2022_ir_87_cuts_between_kanji_and_returns_to_ascii_before_the_marker) {
  // 60 kanji: 51 fit beside " ScreenedByAI"; the cut falls inside the kanji run.
  const std::string description = "CT " + kToKanji + repeated(kYama, 60) + kToAscii;
  expect_marked("\\ISO 2022 IR 87", description,
                "CT " + kToKanji + repeated(kYama, 48) + kToAscii + " " + kMarker);
}

TEST(CharsetText, iso_2022_ir_149_never_cuts_a_hangul_character_in_half) {
  // One ASCII letter first, so that a cut by bytes would fall in the middle of a two-byte character.
  const std::string description = "A" + kToHangul + repeated(kHong, 60);
  expect_marked("\\ISO 2022 IR 149", description, "A" + kToHangul + repeated(kHong, 50) + " " + kMarker);
}

TEST(CharsetText, iso_2022_ir_13_and_ir_87_mixed_returns_to_romaji_the_initial_set) {
  // Half-width katakana (GR, one byte each), then kanji; the initial G0 of ISO 2022 IR 13 is JIS X 0201 romaji.
  const std::string katakana = repeated("\xB1", 10);
  const std::string description = katakana + kToKanji + repeated(kYama, 50) + kToRomaji + "END";
  expect_marked("ISO 2022 IR 13\\ISO 2022 IR 87", description,
                katakana + kToKanji + repeated(kYama, 41) + kToRomaji + " " + kMarker);
}

TEST(CharsetText, gb18030_keeps_two_and_four_byte_characters_whole) {
  const std::string description = "A" + repeated(kZhong, 30) + repeated(kFourByte, 30);
  expect_marked("GB18030", description, "A" + repeated(kZhong, 30) + repeated(kFourByte, 20) + " " + kMarker);
}

TEST(CharsetText, iso_ir_100_counts_one_byte_per_character) {
  expect_marked("ISO_IR 100", repeated("\xE9", 70), repeated("\xE9", 51) + " " + kMarker);
}

TEST(CharsetText, iso_ir_192_counts_code_points) {
  expect_marked("ISO_IR 192", repeated("\xE6\xBC\xA2", 70), repeated("\xE6\xBC\xA2", 51) + " " + kMarker);
}

TEST(CharsetText, escape_sequences_count_as_no_character) {
  const auto japanese = CharsetText::for_specific_character_set("\\ISO 2022 IR 87");
  EXPECT_EQ(japanese.length_in_characters(kToKanji + repeated(kYama, 3) + kToAscii + "ab"), 5u);
  const auto korean = CharsetText::for_specific_character_set("\\ISO 2022 IR 149");
  EXPECT_EQ(korean.length_in_characters(kToHangul + repeated(kHong, 4)), 4u);
}

TEST(CharsetText, a_short_value_is_kept_and_a_cut_right_after_an_escape_drops_it) {
  const auto japanese = CharsetText::for_specific_character_set("\\ISO 2022 IR 87");
  const std::string whole = "ab" + kToKanji + kYama + kToAscii;
  EXPECT_EQ(japanese.prefix(whole, 10), whole);
  // Two characters fit: "ab"; the designation after them introduces nothing and is left out.
  EXPECT_EQ(japanese.prefix(whole, 2), "ab");
  // A value that ends while kanji are invoked (non-conformant input) still gets back to ASCII.
  EXPECT_EQ(japanese.prefix("ab" + kToKanji + kYama, 10), "ab" + kToKanji + kYama + kToAscii);
}

TEST(CharsetText, an_already_marked_iso_2022_description_is_left_alone) {
  const auto japanese = CharsetText::for_specific_character_set("\\ISO 2022 IR 87");
  const std::string once = append_marker(kToKanji + repeated(kYama, 60) + kToAscii, kMarker, japanese);
  EXPECT_EQ(append_marker(once, kMarker, japanese), once);
}

TEST(TagRewriter, rewrites_iso_2022_descriptions_so_that_they_still_decode) {
  harness::TempDir folder("charset");
  const auto file = folder / "image.dcm";
  ASSERT_TRUE(testing::write_image(testing::ImageSpec{}, file).ok());
  auto instance = dicom::Instance::load(file);
  ASSERT_TRUE(instance) << instance.error().describe();
  DcmDataset& dataset = instance->dataset();
  const std::string charset = "\\ISO 2022 IR 87";
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SpecificCharacterSet, charset.c_str()).good());
  const std::string study = "CT " + kToKanji + repeated(kYama, 70) + kToAscii;
  const std::string series = "A" + kToKanji + repeated(kYama, 2) + kToAscii + " HEAD";
  ASSERT_TRUE(dataset.putAndInsertString(DCM_StudyDescription, study.c_str()).good());
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SeriesDescription, series.c_str()).good());
  config::ProcessingConfig processing;
  processing.marker = kMarker;
  ProcessingContext context{instance.value(), processing};
  ASSERT_TRUE(TagRewriter().apply(context).ok());

  OFString value;
  ASSERT_TRUE(dataset.findAndGetOFStringArray(DCM_StudyDescription, value).good());
  EXPECT_EQ(std::string(value.c_str(), value.length()),
            "CT " + kToKanji + repeated(kYama, 48) + kToAscii + " " + kMarker);
  std::string utf8;
  ASSERT_TRUE(decodes(charset, std::string(value.c_str(), value.length()), utf8));
  EXPECT_EQ(code_points(utf8), 64u);
  ASSERT_TRUE(dataset.findAndGetOFStringArray(DCM_SeriesDescription, value).good());
  EXPECT_EQ(std::string(value.c_str(), value.length()), series + " " + kMarker);
}

TEST(Provenance, cuts_earlier_iso_2022_comments_by_characters_and_returns_to_ascii_before_the_new_line) {
  DcmDataset dataset;
  const std::string charset = "\\ISO 2022 IR 87";
  ASSERT_TRUE(dataset.putAndInsertString(DCM_SpecificCharacterSet, charset.c_str()).good());
  // More than LT's 10240 characters of kanji: the earlier comments must give way to the new line.
  const std::string earlier = "x" + kToKanji + repeated(kYama, 10300) + kToAscii;
  ASSERT_TRUE(dataset.putAndInsertString(DCM_ImageComments, earlier.c_str()).good());
  AlgorithmIdentity algorithm;
  algorithm.name = "test-model";
  algorithm.version = "1";
  algorithm.step = "infer";
  ASSERT_TRUE(record_provenance(dataset, algorithm, kMarker, {Finding{"nodule", 0.93}}).ok());
  OFString comments;
  ASSERT_TRUE(dataset.findAndGetOFStringArray(DCM_ImageComments, comments).good());
  const std::string value(comments.c_str(), comments.length());
  const std::string line = kMarker + " test-model 1: " + findings_text({Finding{"nodule", 0.93}});
  ASSERT_GE(value.size(), line.size());
  EXPECT_EQ(value.substr(value.size() - line.size() - 2 - kToAscii.size()), kToAscii + "\r\n" + line);
  std::string utf8;
  ASSERT_TRUE(decodes(charset, value, utf8));
  EXPECT_EQ(code_points(utf8), 10240u);
}

}  // namespace
}  // namespace creni::process
