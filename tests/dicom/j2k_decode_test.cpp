// JPEG 2000 and HTJ2K decoding with the real-world quirks (issue 15): fixtures made by opj_compress and, for HTJ2K,
// ojph_compress (j2k_fixture.hpp).
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <fstream>

#include "creni/config/node_config.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"
#include "j2k_fixture.hpp"

namespace creni::dicom {
namespace {

using testing::ImageSpec;
using testing::J2kOptions;

class J2kDecode : public ::testing::Test {
 protected:
  // Writes the fixture, loads and decodes it; the instance is left for the assertions.
  Result<Instance> decoded(const ImageSpec& spec, const J2kOptions& options) {
    const auto file = temp_.path() / ("in" + std::to_string(++count_) + ".dcm");
    if (Status written = testing::write_j2k_image(spec, options, file); !written) return written.error();
    auto instance = Instance::load(file);
    if (!instance) return instance.error();
    if (Status decoded = instance->decode_pixels(); !decoded) return decoded.error();
    return instance;
  }

  // Counts stored values that differ from what the factory put in (sample-interleaved native pixel data).
  static int differences(Instance& instance, const ImageSpec& spec) {
    auto module = read_pixel_module(instance.dataset(), 1ULL << 30);
    EXPECT_TRUE(module.ok());
    EXPECT_EQ(module->planar_configuration, 0U);
    const int samples = testing::samples_for(spec.photometric);
    const Uint16* words = nullptr;
    const Uint8* bytes = nullptr;
    if (spec.bits_allocated == 16) {
      EXPECT_TRUE(instance.dataset().findAndGetUint16Array(DCM_PixelData, words).good());
    } else {
      EXPECT_TRUE(instance.dataset().findAndGetUint8Array(DCM_PixelData, bytes).good());
    }
    int wrong = 0;
    std::size_t index = 0;
    for (int frame = 0; frame < spec.frames; ++frame) {
      for (int row = 0; row < spec.rows; ++row) {
        for (int column = 0; column < spec.columns; ++column) {
          for (int sample = 0; sample < samples; ++sample, ++index) {
            const int expected = testing::default_pixel(spec, frame, row, column, sample);
            const int actual = words != nullptr ? (spec.is_signed ? static_cast<Sint16>(words[index]) : words[index])
                                                : bytes[index];
            wrong += expected == actual ? 0 : 1;
          }
        }
      }
    }
    return wrong;
  }

  static std::string text_of(Instance& instance, const DcmTagKey& tag) { return instance.string_of(tag); }

  DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-j2k"};
  int count_ = 0;
};

ImageSpec j2k_spec(const std::string& syntax = UID_JPEG2000LosslessOnlyTransferSyntax) {
  ImageSpec spec;
  spec.transfer_syntax = syntax;
  return spec;
}

TEST_F(J2kDecode, lossless_12_bit_is_bit_exact) {
  const ImageSpec spec = j2k_spec();
  auto instance = decoded(spec, {});
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(differences(instance.value(), spec), 0);
}

TEST_F(J2kDecode, signed_ct_is_bit_exact) {
  ImageSpec spec = j2k_spec();
  spec.is_signed = true;
  spec.bits_stored = 16;
  spec.window = std::make_pair(-300.0, 400.0);
  auto instance = decoded(spec, {});
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(differences(instance.value(), spec), 0);
}

// The HTJ2K fixtures carry real Part 15 codestreams: the CAP marker (0xFF50, ISO/IEC 15444-15) with the HT block
// coder bit set. Read from the written file, so the test shows which coder OpenJPEG had to decode.
bool has_ht_capability_marker(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto cap = bytes.find(std::string("\xFF\x50", 2));
  if (cap == std::string::npos || cap + 8 > bytes.size()) return false;
  const auto pcap = (static_cast<unsigned char>(bytes[cap + 4]) << 24) | (static_cast<unsigned char>(bytes[cap + 5]) << 16);
  return (pcap & 0x00020000) != 0;  // bit 15 of Pcap, counted from the most significant bit: Part 15 capabilities
}

class HtJ2kDecode : public J2kDecode, public ::testing::WithParamInterface<std::string> {};

TEST_P(HtJ2kDecode, a_real_ht_codestream_is_decoded_bit_exact_for_grey_and_colour) {
  ImageSpec grey = j2k_spec(GetParam());
  ImageSpec wide = grey;
  wide.bits_stored = 16;
  ImageSpec colour = grey;
  colour.photometric = "RGB";
  colour.bits_allocated = 8;
  colour.bits_stored = 8;
  colour.window.reset();
  for (const ImageSpec& spec : {grey, wide, colour}) {
    const auto file = temp_.path() / ("ht" + std::to_string(++count_) + ".dcm");
    ASSERT_TRUE(testing::write_j2k_image(spec, {}, file).ok());
    EXPECT_TRUE(has_ht_capability_marker(file)) << spec.photometric;
    auto instance = Instance::load(file);
    ASSERT_TRUE(instance.ok()) << instance.error().describe();
    ASSERT_TRUE(instance->decode_pixels().ok()) << spec.photometric;
    EXPECT_EQ(differences(instance.value(), spec), 0) << spec.photometric << " " << spec.bits_stored;
  }
}

INSTANTIATE_TEST_SUITE_P(Lossless, HtJ2kDecode,
                         ::testing::Values("1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202"),
                         [](const auto& info) { return info.index == 0 ? std::string("htj2k") : std::string("htj2k_rpcl"); });

TEST_F(J2kDecode, a_codestream_that_calls_signed_pixels_unsigned_is_read_as_pixel_representation_says) {
  ImageSpec spec = j2k_spec();
  spec.is_signed = true;
  spec.bits_stored = 12;
  spec.window = std::make_pair(-100.0, 400.0);  // negative stored values: their 12-bit patterns look large unsigned
  J2kOptions options;
  options.unsigned_codestream = true;
  auto instance = decoded(spec, options);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(differences(instance.value(), spec), 0);
}

TEST_F(J2kDecode, ybr_rct_colour_is_written_as_interleaved_rgb) {
  ImageSpec spec = j2k_spec();
  spec.photometric = "RGB";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window.reset();
  auto instance = decoded(spec, {});  // YBR_RCT, colour transform on
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(text_of(instance.value(), DCM_PhotometricInterpretation), "RGB");
  EXPECT_EQ(differences(instance.value(), spec), 0);
}

TEST_F(J2kDecode, ybr_ict_without_the_colour_transform_stays_ybr_full) {
  ImageSpec spec = j2k_spec(UID_JPEG2000TransferSyntax);
  spec.photometric = "RGB";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window.reset();
  J2kOptions options;
  options.mct = false;
  options.photometric = "YBR_ICT";
  auto instance = decoded(spec, options);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(text_of(instance.value(), DCM_PhotometricInterpretation), "YBR_FULL");
}

TEST_F(J2kDecode, a_jp2_file_instead_of_a_codestream_is_decoded) {
  const ImageSpec spec = j2k_spec();
  J2kOptions options;
  options.jp2 = true;
  auto instance = decoded(spec, options);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(differences(instance.value(), spec), 0);
}

class J2kFrames : public J2kDecode, public ::testing::WithParamInterface<std::tuple<int, bool, bool>> {};

TEST_P(J2kFrames, multi_frame_fragments_are_grouped_into_frames) {
  const auto [fragments, basic, extended] = GetParam();
  ImageSpec spec = j2k_spec();
  spec.frames = 3;
  J2kOptions options;
  options.fragments_per_frame = fragments;
  options.basic_offset_table = basic;
  options.extended_offset_table = extended;
  auto instance = decoded(spec, options);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(differences(instance.value(), spec), 0);
  EXPECT_FALSE(instance->dataset().tagExists(DCM_ExtendedOffsetTable));
}

// One fragment per frame or three; without offsets (frame starts found by the SOC marker), with the Basic Offset
// Table, with the Extended Offset Table.
INSTANTIATE_TEST_SUITE_P(Layouts, J2kFrames,
                         ::testing::Values(std::make_tuple(1, false, false), std::make_tuple(3, false, false),
                                           std::make_tuple(3, true, false), std::make_tuple(3, false, true)));

TEST_F(J2kDecode, a_codestream_larger_than_the_pixel_module_is_refused_before_decoding) {
  ImageSpec spec = j2k_spec();
  const auto file = temp_.path() / "lying.dcm";
  ASSERT_TRUE(testing::write_j2k_image(spec, {}, file).ok());
  auto instance = Instance::load(file);
  ASSERT_TRUE(instance.ok());
  instance->dataset().putAndInsertUint16(DCM_Rows, 32);  // the codestream holds 64 rows
  const Status decoded = instance->decode_pixels();
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, "invalid_pixel_module") << decoded.error().describe();
}

TEST_F(J2kDecode, a_corrupt_codestream_is_a_decode_failure) {
  const auto file = temp_.path() / "corrupt.dcm";
  ASSERT_TRUE(testing::write_j2k_image(j2k_spec(), {}, file).ok());
  std::string bytes = harness::read_file(file);
  const auto soc = bytes.find("\xFF\x4F\xFF\x51");
  ASSERT_NE(soc, std::string::npos);
  for (std::size_t i = soc + 200; i < bytes.size() - 16; ++i) bytes[i] = static_cast<char>(0xFF);  // garbage tile data
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto instance = Instance::load(file);
  ASSERT_TRUE(instance.ok());
  const Status decoded = instance->decode_pixels();
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, "decode_failed") << decoded.error().describe();
}

// Processed results keep the compression history (PS3.3 section C.7.6.1.1.5) and are written uncompressed.
class J2kHistory : public J2kDecode,
                   public ::testing::WithParamInterface<std::tuple<std::string, std::string, std::string>> {};

TEST_P(J2kHistory, lossy_history_is_kept_in_the_result) {
  const auto& [syntax, lossy, method] = GetParam();
  const auto file = temp_.path() / "history.dcm";
  ASSERT_TRUE(testing::write_j2k_image(j2k_spec(syntax), {}, file).ok());
  auto instance = Instance::load(file);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  EXPECT_EQ(instance->identity().transfer_syntax_uid, syntax);
  auto chain = process::ProcessingChain::build(config::ProcessingConfig{}, {});
  ASSERT_TRUE(chain.ok());
  auto processed = chain->run(instance.value());
  ASSERT_TRUE(processed.ok()) << processed.error().describe();
  const output::OutputWriter writer(temp_.path() / "out", config::OutputLayout::flat);
  auto written = writer.write(instance.value(), processed->result);
  ASSERT_TRUE(written.ok()) << written.error().describe();
  auto result = Instance::load(written.value());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->identity().transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(result->string_of(DCM_LossyImageCompression), lossy);
  EXPECT_EQ(result->string_of(DCM_LossyImageCompressionMethod), method);
}

INSTANTIATE_TEST_SUITE_P(
    Syntaxes, J2kHistory,
    ::testing::Values(std::make_tuple(UID_JPEG2000LosslessOnlyTransferSyntax, "", ""),
                      std::make_tuple(UID_JPEG2000TransferSyntax, "01", "ISO_15444_1"),
                      std::make_tuple("1.2.840.10008.1.2.4.201", "", ""),
                      std::make_tuple("1.2.840.10008.1.2.4.202", "", ""),
                      std::make_tuple("1.2.840.10008.1.2.4.203", "01", "ISO_15444_15")),
    [](const auto& info) { return "ts_" + std::to_string(info.index); });

}  // namespace
}  // namespace creni::dicom
