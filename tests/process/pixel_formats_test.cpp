// Pixel formats real sites send (issue 15): 32-bit (RT Dose), 1-bit (segmentations), uncompressed YBR_FULL_422,
// palette colour. Each through the processing chain, saved, loaded back.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/process/text_burner.hpp"
#include "harness/harness.hpp"
#include "process_one.hpp"

namespace creni::process {
namespace {

class PixelFormats : public ::testing::Test {
 protected:
  Result<ProcessedFile> run(const testing::ImageSpec& spec) { return process_one(spec, {}, {}, temp_.path(), ++count_); }

  static cv::Rect box_for(const testing::ImageSpec& spec) {
    return place_text(annotation_text("ScreenedByAI", {}), spec.columns, spec.rows).box;
  }

  dicom::DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-formats"};
  int count_ = 0;
};

TEST_F(PixelFormats, a_32_bit_dose_gets_its_text_at_the_images_own_maximum_and_stays_32_bit) {
  testing::ImageSpec spec;
  spec.sop_class_uid = "1.2.840.10008.5.1.4.1.1.481.2";  // RT Dose Storage
  spec.bits_allocated = 32;
  spec.bits_stored = 32;
  spec.window.reset();
  spec.frames = 2;
  spec.pixel = [](int frame, int row, int column, int) { return 100000 + 5000 * row + 300 * column + frame; };
  auto result = run(spec);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  Uint16 bits = 0;
  ASSERT_TRUE(result->data().findAndGetUint16(DCM_BitsAllocated, bits).good());
  EXPECT_EQ(bits, 32);
  const Uint16* words = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(result->data().findAndGetUint16Array(DCM_PixelData, words, &count).good());
  ASSERT_EQ(count, 64UL * 64UL * 2UL * 2UL);
  const auto* values = reinterpret_cast<const Uint32*>(words);
  const cv::Rect box = box_for(spec);
  for (int frame = 0; frame < 2; ++frame) {
    const Uint32 maximum = static_cast<Uint32>(spec.pixel(frame, 63, 63, 0));
    int at_maximum = 0;
    int changed_outside = 0;
    for (int row = 0; row < 64; ++row) {
      for (int column = 0; column < 64; ++column) {
        const Uint32 value = values[frame * 64 * 64 + row * 64 + column];
        if (box.contains(cv::Point(column, row))) {
          at_maximum += value == maximum ? 1 : 0;
        } else {
          changed_outside += value == static_cast<Uint32>(spec.pixel(frame, row, column, 0)) ? 0 : 1;
        }
      }
    }
    EXPECT_GE(at_maximum, 20) << "frame " << frame;
    EXPECT_EQ(changed_outside, 0) << "frame " << frame;
  }
}

TEST_F(PixelFormats, a_one_bit_segmentation_gets_the_marker_set_in_its_bit_plane) {
  testing::ImageSpec spec;
  spec.sop_class_uid = "1.2.840.10008.5.1.4.1.1.66.4";  // Segmentation Storage
  spec.bits_allocated = 1;
  spec.bits_stored = 1;
  spec.rows = 63;
  spec.columns = 61;  // 3843 bits per frame: frames are not byte aligned
  spec.frames = 3;
  spec.window.reset();
  spec.pixel = [](int frame, int row, int column, int) { return (row + column + frame) % 5 == 0 ? 1 : 0; };
  auto result = run(spec);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  const Uint8* bytes = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(result->data().findAndGetUint8Array(DCM_PixelData, bytes, &count).good());
  ASSERT_GE(count, (63UL * 61UL * 3UL + 7) / 8);
  const cv::Rect box = box_for(spec);
  for (int frame = 0; frame < 3; ++frame) {
    int set = 0;
    int cleared = 0;
    int changed_outside = 0;
    for (int row = 0; row < 63; ++row) {
      for (int column = 0; column < 61; ++column) {
        const std::size_t bit = static_cast<std::size_t>(frame) * 63 * 61 + static_cast<std::size_t>(row) * 61 + column;
        const int value = (bytes[bit / 8] >> (bit % 8)) & 1;
        if (box.contains(cv::Point(column, row))) {
          (value != 0 ? set : cleared) += 1;
        } else {
          changed_outside += value == spec.pixel(frame, row, column, 0) ? 0 : 1;
        }
      }
    }
    EXPECT_GE(set, 10) << "frame " << frame;
    EXPECT_GE(cleared, 10) << "frame " << frame;
    EXPECT_EQ(changed_outside, 0) << "frame " << frame;
  }
}

TEST_F(PixelFormats, uncompressed_ybr_full_422_is_written_as_ybr_full_with_the_shared_chroma) {
  testing::ImageSpec spec;
  spec.sop_class_uid = "1.2.840.10008.5.1.4.1.1.7";  // Secondary Capture
  spec.photometric = "YBR_FULL_422";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window.reset();
  spec.pixel = [](int, int row, int column, int sample) { return sample == 0 ? (row * 3 + column) % 200 + 20 : 100 + sample * 20 + column / 2 % 7; };
  auto result = run(spec);
  ASSERT_TRUE(result.ok()) << result.error().describe();
  EXPECT_EQ(text_of(result->data(), DCM_PhotometricInterpretation), "YBR_FULL");
  const Uint8* bytes = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(result->data().findAndGetUint8Array(DCM_PixelData, bytes, &count).good());
  ASSERT_GE(count, 64UL * 64UL * 3UL);
  const cv::Rect box = box_for(spec);
  int changed_outside = 0;
  for (int row = 0; row < 64; ++row) {
    for (int column = 0; column < 64; ++column) {
      if (box.contains(cv::Point(column, row))) continue;
      const std::size_t at = (static_cast<std::size_t>(row) * 64 + column) * 3;
      const int pair_start = column - column % 2;  // the chroma of a pair is the first pixel's
      changed_outside += bytes[at] == spec.pixel(0, row, column, 0) ? 0 : 1;
      changed_outside += bytes[at + 1] == spec.pixel(0, row, pair_start, 1) ? 0 : 1;
      changed_outside += bytes[at + 2] == spec.pixel(0, row, pair_start, 2) ? 0 : 1;
    }
  }
  EXPECT_EQ(changed_outside, 0);
}

TEST_F(PixelFormats, palette_colour_gets_its_brightest_and_darkest_entries) {
  testing::ImageSpec spec;
  spec.sop_class_uid = "1.2.840.10008.5.1.4.1.1.7";
  spec.photometric = "PALETTE COLOR";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window.reset();
  spec.pixel = [](int, int row, int column, int) { return 60 + (row + column) % 40; };
  auto image = testing::make_image(spec);
  DcmDataset& data = *image->getDataset();
  // A palette whose brightest entry is 7 and darkest 200 (not the ends of the range): the inks must be found in it.
  std::vector<Uint16> red(256, 0x4000), green(256, 0x4000), blue(256, 0x4000);
  red[7] = green[7] = blue[7] = 0xFFFF;
  red[200] = green[200] = blue[200] = 0;
  const Uint16 descriptor[] = {256, 0, 16};
  for (const auto& [tag, table] : {std::make_pair(DCM_RedPaletteColorLookupTableData, &red),
                                   std::make_pair(DCM_GreenPaletteColorLookupTableData, &green),
                                   std::make_pair(DCM_BluePaletteColorLookupTableData, &blue)}) {
    ASSERT_TRUE(data.putAndInsertUint16Array(tag, table->data(), 256).good());
  }
  for (const auto& tag : {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                          DCM_BluePaletteColorLookupTableDescriptor}) {
    ASSERT_TRUE(data.putAndInsertUint16Array(tag, descriptor, 3).good());
  }
  const auto input = temp_.path() / "palette.dcm";
  ASSERT_TRUE(image->saveFile(input.c_str(), EXS_LittleEndianExplicit).good());
  auto instance = dicom::Instance::load(input);
  ASSERT_TRUE(instance.ok());
  auto chain = ProcessingChain::build({}, {});
  ASSERT_TRUE(chain.ok());
  ASSERT_TRUE(chain->run(instance.value()).ok());
  const Uint8* bytes = nullptr;
  ASSERT_TRUE(instance->dataset().findAndGetUint8Array(DCM_PixelData, bytes).good());
  const cv::Rect box = box_for(spec);
  int text = 0;
  int background = 0;
  for (int row = box.y; row < box.y + box.height; ++row) {
    for (int column = box.x; column < box.x + box.width; ++column) {
      text += bytes[row * 64 + column] == 7 ? 1 : 0;
      background += bytes[row * 64 + column] == 200 ? 1 : 0;
    }
  }
  EXPECT_GE(text, 20);
  EXPECT_GE(background, 20);
}

}  // namespace
}  // namespace creni::process
