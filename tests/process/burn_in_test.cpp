// Burned-in text must be visible under the image's own display on every photometric interpretation, bit depth,
// signedness, frame count and input transfer syntax, and must leave the rest of the image untouched.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"
#include "creni/process/text_burner.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::process {
namespace {

struct ImageKind {
  std::string name;
  testing::ImageSpec spec;
};

std::vector<ImageKind> image_kinds() {
  std::vector<ImageKind> kinds;
  testing::ImageSpec base;
  kinds.push_back({"mono2_12bit_windowed", base});

  testing::ImageSpec signed_ct = base;
  signed_ct.bits_stored = 16;
  signed_ct.is_signed = true;
  signed_ct.window = std::make_pair(40.0, 400.0);
  signed_ct.rescale_intercept = -1024;  // stored = HU + 1024 as on most CTs, with signed storage
  kinds.push_back({"mono2_signed_16bit_rescaled", signed_ct});

  testing::ImageSpec mono1 = base;
  mono1.photometric = "MONOCHROME1";
  kinds.push_back({"mono1_12bit_windowed", mono1});

  testing::ImageSpec full_range = base;
  full_range.bits_stored = 16;
  full_range.window.reset();
  kinds.push_back({"mono2_16bit_no_window", full_range});

  testing::ImageSpec eight = base;
  eight.bits_allocated = 8;
  eight.bits_stored = 8;
  eight.window.reset();
  kinds.push_back({"mono2_8bit_no_window", eight});

  testing::ImageSpec rgb = base;
  rgb.photometric = "RGB";
  rgb.bits_allocated = 8;
  rgb.bits_stored = 8;
  rgb.window.reset();
  kinds.push_back({"rgb_interleaved", rgb});

  testing::ImageSpec rgb_planar = rgb;
  rgb_planar.planar_configuration = 1;
  kinds.push_back({"rgb_planar", rgb_planar});

  testing::ImageSpec frames = base;
  frames.frames = 3;
  kinds.push_back({"mono2_three_frames", frames});
  return kinds;
}

// The displayed brightness (0..255) of each pixel of a saved result, computed independently of the code under test
// from the DICOM display rules (PS3.3 section C.11.2.1.2 linear window; full range when there is none).
struct DisplayedImage {
  int rows = 0;
  int columns = 0;
  int frames = 0;
  bool planar = false;  // PlanarConfiguration 1 in the result (decoders may change it)
  std::vector<std::vector<double>> brightness;  // per frame, row-major
  std::vector<std::vector<int>> stored;         // per frame, row-major, all samples interleaved
};

DisplayedImage displayed(DcmFileFormat& file) {
  DcmDataset& data = *file.getDataset();
  Uint16 rows = 0, columns = 0, samples = 1, bits_allocated = 0, bits_stored = 0, representation = 0, planar = 0;
  data.findAndGetUint16(DCM_Rows, rows);
  data.findAndGetUint16(DCM_Columns, columns);
  data.findAndGetUint16(DCM_SamplesPerPixel, samples);
  data.findAndGetUint16(DCM_BitsAllocated, bits_allocated);
  data.findAndGetUint16(DCM_BitsStored, bits_stored);
  data.findAndGetUint16(DCM_PixelRepresentation, representation);
  data.findAndGetUint16(DCM_PlanarConfiguration, planar);
  Sint32 frames = 1;
  if (data.findAndGetSint32(DCM_NumberOfFrames, frames).bad()) frames = 1;
  OFString photometric;
  data.findAndGetOFString(DCM_PhotometricInterpretation, photometric);
  Float64 center = 0, width = 0, slope = 1, intercept = 0;
  const bool windowed = data.findAndGetFloat64(DCM_WindowCenter, center).good() &&
                        data.findAndGetFloat64(DCM_WindowWidth, width).good();
  data.findAndGetFloat64(DCM_RescaleSlope, slope);
  data.findAndGetFloat64(DCM_RescaleIntercept, intercept);

  const std::size_t pixels = static_cast<std::size_t>(rows) * columns;
  std::vector<int> all;
  if (bits_allocated == 8) {
    const Uint8* bytes = nullptr;
    data.findAndGetUint8Array(DCM_PixelData, bytes);
    for (std::size_t i = 0; i < pixels * samples * frames; ++i) all.push_back(representation ? static_cast<Sint8>(bytes[i]) : bytes[i]);
  } else {
    const Uint16* words = nullptr;
    data.findAndGetUint16Array(DCM_PixelData, words);
    for (std::size_t i = 0; i < pixels * samples * frames; ++i) {
      int value = words[i] & ((1u << bits_stored) - 1);
      if (representation && (value & (1 << (bits_stored - 1)))) value -= 1 << bits_stored;
      all.push_back(value);
    }
  }

  DisplayedImage image;
  image.rows = rows;
  image.columns = columns;
  image.frames = frames;
  image.planar = samples > 1 && planar == 1;
  const double full = std::ldexp(1.0, bits_stored) - 1;
  for (int frame = 0; frame < frames; ++frame) {
    const auto first = all.begin() + static_cast<std::ptrdiff_t>(frame * pixels * samples);
    std::vector<int> stored(first, first + static_cast<std::ptrdiff_t>(pixels * samples));
    std::vector<double> brightness(pixels);
    if (samples == 3) {
      for (std::size_t p = 0; p < pixels; ++p) {
        const auto sample = [&](int s) { return planar ? stored[s * pixels + p] : stored[p * 3 + s]; };
        brightness[p] = (0.299 * sample(0) + 0.587 * sample(1) + 0.114 * sample(2)) / full * 255.0;
      }
    } else {
      const auto [lowest, highest] = std::minmax_element(stored.begin(), stored.end());
      for (std::size_t p = 0; p < pixels; ++p) {
        double y = 0;
        if (windowed) {
          const double x = stored[p] * slope + intercept;
          if (x <= center - 0.5 - (width - 1) / 2) y = 0;
          else if (x > center - 0.5 + (width - 1) / 2) y = 255;
          else y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255;
        } else {
          y = *highest == *lowest ? 0 : (stored[p] - *lowest) * 255.0 / (*highest - *lowest);
        }
        brightness[p] = photometric == "MONOCHROME1" ? 255 - y : y;
      }
    }
    image.brightness.push_back(std::move(brightness));
    image.stored.push_back(std::move(stored));
  }
  return image;
}

using BurnInCase = std::tuple<ImageKind, testing::TransferSyntaxCase>;

void PrintTo(const ImageKind& kind, std::ostream* out) { *out << kind.name; }

class BurnIn : public ::testing::TestWithParam<BurnInCase> {
 protected:
  dicom::DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-burn"};
};

TEST_P(BurnIn, text_is_visible_on_every_frame_and_the_rest_is_untouched) {
  const auto& [kind, syntax] = GetParam();
  testing::ImageSpec spec = kind.spec;
  spec.transfer_syntax = syntax.uid;
  const auto input = temp_.path() / "input.dcm";
  ASSERT_TRUE(testing::write_image(spec, input).ok());

  auto chain = ProcessingChain::build(config::ProcessingConfig{}, {});
  ASSERT_TRUE(chain.ok());
  auto instance = dicom::Instance::load(input);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  auto processed = chain->run(instance.value());
  ASSERT_TRUE(processed.ok()) << processed.error().describe();
  const output::OutputWriter writer(temp_.path() / "out", config::OutputLayout::flat);
  auto written = writer.write(instance.value(), processed->result);
  ASSERT_TRUE(written.ok()) << written.error().describe();

  DcmFileFormat saved;
  ASSERT_TRUE(saved.loadFile(written->c_str()).good());
  OFString syntax_uid;
  saved.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax_uid);
  EXPECT_EQ(syntax_uid, UID_LittleEndianExplicitTransferSyntax);

  const DisplayedImage image = displayed(saved);
  ASSERT_EQ(image.frames, spec.frames);
  const TextPlacement placement = place_text(annotation_text("ScreenedByAI", {}), spec.columns, spec.rows);
  ASSERT_GT(placement.box.area(), 0);
  for (int frame = 0; frame < image.frames; ++frame) {
    int white = 0;
    int black = 0;
    for (int row = placement.box.y; row < placement.box.y + placement.box.height; ++row) {
      for (int column = placement.box.x; column < placement.box.x + placement.box.width; ++column) {
        const double y = image.brightness[frame][static_cast<std::size_t>(row * image.columns + column)];
        white += y >= 250 ? 1 : 0;
        black += y <= 5 ? 1 : 0;
      }
    }
    EXPECT_GE(white, 20) << "frame " << frame << ": text not shown as white";
    EXPECT_GE(black, 20) << "frame " << frame << ": box not shown as black";

    if (!syntax.lossless) continue;
    // Outside the box, every stored value is what the source held.
    const int samples = testing::samples_for(spec.photometric);
    int changed = 0;
    for (int row = 0; row < spec.rows; ++row) {
      for (int column = 0; column < spec.columns; ++column) {
        if (placement.box.contains(cv::Point(column, row))) continue;
        for (int sample = 0; sample < samples; ++sample) {
          const std::size_t pixel = static_cast<std::size_t>(row * spec.columns + column);
          const std::size_t index = image.planar ? sample * spec.rows * spec.columns + pixel : pixel * samples + sample;
          if (image.stored[frame][index] != testing::default_pixel(spec, frame, row, column, sample)) ++changed;
        }
      }
    }
    EXPECT_EQ(changed, 0) << "frame " << frame << ": pixels outside the text box changed";
  }
}

std::vector<BurnInCase> burn_in_cases() {
  std::vector<BurnInCase> cases;
  for (const auto& kind : image_kinds()) {
    for (const auto& syntax : testing::decodable_transfer_syntaxes()) {
      if (kind.spec.bits_allocated > 8 && !syntax.supports_16_bit) continue;
      cases.emplace_back(kind, syntax);
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(EveryImageKindAndSyntax, BurnIn, ::testing::ValuesIn(burn_in_cases()),
                         [](const ::testing::TestParamInfo<BurnInCase>& info) {
                           return std::get<0>(info.param).name + "_" + std::get<1>(info.param).name;
                         });

}  // namespace
}  // namespace creni::process

namespace creni::process {
namespace {

TEST(DisplayModel, text_is_white_and_box_black_under_every_window_of_the_image) {
  testing::ImageSpec spec;
  auto file = testing::make_image(spec);
  DcmDataset& data = *file->getDataset();
  data.putAndInsertString(DCM_WindowCenter, "2048\\1000");
  data.putAndInsertString(DCM_WindowWidth, "1024\\200");
  auto module = dicom::read_pixel_module(data, 1 << 20);
  ASSERT_TRUE(module.ok());
  auto model = DisplayModel::read(data, *module);
  ASSERT_TRUE(model.ok()) << model.error().describe();
  auto frames = frames_of(data, *module);
  ASSERT_TRUE(frames.ok());
  const Ink ink = model->ink_for(frames->front());
  EXPECT_GT(ink.text[0], 2048 + 512 - 1);  // above the upper edge of the wider window
  EXPECT_LE(ink.box[0], 1000 - 100);       // at or below the lower edge of the narrower one
}

TEST(DisplayModel, refuses_photometric_interpretations_it_cannot_draw_on) {
  testing::ImageSpec spec;
  spec.photometric = "YBR_FULL_422";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  auto file = testing::make_image(spec);
  auto module = dicom::read_pixel_module(*file->getDataset(), 1 << 20);
  ASSERT_TRUE(module.ok());
  auto model = DisplayModel::read(*file->getDataset(), *module);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, "unsupported_photometric");
}

}  // namespace
}  // namespace creni::process
