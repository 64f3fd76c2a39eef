// Step "infer": tiny ONNX models with known outputs (built at test time by make_test_models.py with Debian's
// python3-onnx; nothing downloaded) run through the whole chain; findings, burned text, outline, provenance and the
// start-up refusals are asserted.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <memory>

#include "creni/common/content_hash.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/display_ink.hpp"
#include "creni/process/inference_step.hpp"
#include "creni/process/processing_chain.hpp"
#include "creni/process/text_burner.hpp"
#include "dicom_factory.hpp"
#include "process_one.hpp"
#include "harness/harness.hpp"
#include "test_models.hpp"

namespace creni::process {
namespace {

// The default test image (12-bit, window 2048/1024): stored values at or below 1536 show black, above 2559 white.
constexpr int kDark = 1000;
constexpr int kBright = 3000;
constexpr int kWindowWhiteInk = 2560;  // the text ink of that window (display_ink.hpp: just above the upper edge)

// The model a classifier sees for a uniform image of stored value `value` under window 2048/1024
// (PS3.3 section C.11.2.1.2.1).
double windowed(double value, double center = 2048, double width = 1024) {
  return std::clamp((value - (center - 0.5)) / (width - 1) + 0.5, 0.0, 1.0);
}

class InferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<harness::TempDir>("creni-models");
    model_error_ = test_models::build_test_models(models_->path());
  }
  static void TearDownTestSuite() { models_.reset(); }

  void SetUp() override { ASSERT_TRUE(model_error_.empty()) << model_error_; }

  static std::filesystem::path model(const std::string& name) { return models_->path() / name; }

  static config::InferenceConfig classifier() {
    config::InferenceConfig inference;
    inference.model = model("classifier.onnx");
    inference.input_width = 32;
    inference.input_height = 32;
    inference.labels = {"nodule", "clear"};
    inference.threshold = 0.5;
    inference.algorithm_name = "nodule-screen";
    inference.algorithm_version = "1.2.3";
    return inference;
  }

  static config::InferenceConfig segmenter() {
    config::InferenceConfig inference = classifier();
    inference.model = model("segmentation.onnx");
    inference.task = config::InferenceTask::segmentation;
    inference.labels = {"lesion"};
    inference.mask_threshold = 0.5;
    return inference;
  }

  static config::ProcessingConfig with_infer() {
    config::ProcessingConfig processing;
    processing.steps = {"describe", "infer", "burn_in"};
    return processing;
  }

  Result<ProcessedFile> process(const testing::ImageSpec& spec, const config::InferenceConfig& inference,
                                const config::ProcessingConfig& processing = with_infer()) {
    return process_one(spec, processing, inference, temp_.path(), counter_++);
  }

  // Stored value of a 16-bit single-sample output at (frame, row, column).
  static int stored_at(DcmDataset& data, const testing::ImageSpec& spec, int frame, int row, int column) {
    const Uint16* words = nullptr;
    data.findAndGetUint16Array(DCM_PixelData, words);
    return words[(static_cast<std::size_t>(frame) * spec.rows + row) * spec.columns + column];
  }

  static std::string text_of(DcmItem& item, const DcmTagKey& tag, long index = -1) {
    OFString value;
    if (index < 0) {
      item.findAndGetOFStringArray(tag, value);
    } else {
      item.findAndGetOFString(tag, value, static_cast<unsigned long>(index));
    }
    return value.c_str();
  }

  static testing::ImageSpec uniform(int value) {
    testing::ImageSpec spec;
    spec.rows = 64;
    spec.columns = 64;
    spec.pixel = [value](int, int, int, int) { return value; };
    return spec;
  }

  // A 128x128 image, dark except a bright rectangle: rows 48..95, columns 32..95 (frames in `bright_frames`).
  static testing::ImageSpec rectangle(int frames = 1, std::vector<int> bright_frames = {0}) {
    testing::ImageSpec spec;
    spec.rows = 128;
    spec.columns = 128;
    spec.frames = frames;
    spec.pixel = [bright_frames](int frame, int row, int column, int) {
      const bool lit = std::find(bright_frames.begin(), bright_frames.end(), frame) != bright_frames.end();
      return lit && row >= 48 && row <= 95 && column >= 32 && column <= 95 ? kBright : kDark;
    };
    return spec;
  }

  static bool on_rectangle_border(int row, int column) {
    const bool inside = row >= 48 && row <= 95 && column >= 32 && column <= 95;
    return inside && (row == 48 || row == 95 || column == 32 || column == 95);
  }

  static inline std::unique_ptr<harness::TempDir> models_;
  static inline std::string model_error_;
  dicom::DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-infer"};
  int counter_ = 0;
};

TEST_F(InferenceTest, classifier_scores_follow_the_mean_intensity_under_the_images_own_window) {
  auto outcome = process(uniform(2400), classifier());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  const auto& findings = outcome->processed.findings;
  ASSERT_EQ(findings.size(), 1u);  // "clear" scores 1 - 0.84 and stays below the threshold
  EXPECT_EQ(findings[0].label, "nodule");
  EXPECT_NEAR(findings[0].score, windowed(2400), 1e-4);
  EXPECT_GT(outcome->processed.inference_ms, 0.0);
}

TEST_F(InferenceTest, burns_the_findings_into_the_text_exactly_as_the_marker_line) {
  const testing::ImageSpec spec = uniform(2400);
  auto outcome = process(spec, classifier());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();

  // The expected picture: the original with "ScreenedByAI: nodule 0.84" drawn by the burn-in functions.
  auto expected = dicom::Instance::adopt(testing::make_image(spec));
  ASSERT_TRUE(expected.ok());
  auto module = dicom::read_pixel_module(expected->dataset(), 1 << 30);
  ASSERT_TRUE(module.ok());
  auto display = DisplayModel::read(expected->dataset(), module.value());
  auto frames = frames_of(expected->dataset(), module.value());
  ASSERT_TRUE(display.ok() && frames.ok());
  const std::string text = annotation_text("ScreenedByAI", {{"nodule", windowed(2400)}});
  EXPECT_EQ(text, "ScreenedByAI: nodule 0.84");
  draw_text(frames.value()[0], text, place_text(text, spec.columns, spec.rows), display->ink_for(frames.value()[0]));

  int differences = 0;
  for (int row = 0; row < spec.rows; ++row) {
    for (int column = 0; column < spec.columns; ++column) {
      differences += frames.value()[0].planes[0].at<std::uint16_t>(row, column) !=
                     stored_at(outcome->data(), spec, 0, row, column);
    }
  }
  EXPECT_EQ(differences, 0);
}

TEST_F(InferenceTest, monochrome1_is_inverted_before_the_model_sees_it) {
  testing::ImageSpec spec = uniform(2400);
  spec.photometric = "MONOCHROME1";
  auto outcome = process(spec, classifier());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(outcome->processed.findings[0].label, "clear");
  EXPECT_NEAR(outcome->processed.findings[0].score, windowed(2400), 1e-4);
}

TEST_F(InferenceTest, rescale_applies_before_the_window) {
  testing::ImageSpec spec = uniform(1400);
  spec.rescale_intercept = 1000;  // modality value 2400
  auto outcome = process(spec, classifier());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_NEAR(outcome->processed.findings[0].score, windowed(2400), 1e-4);
}

TEST_F(InferenceTest, fixed_window_and_raw_mappings_ignore_the_images_window) {
  config::InferenceConfig fixed = classifier();
  fixed.mapping = config::ValueMapping::fixed_window;
  fixed.window_center = 2200;
  fixed.window_width = 801;
  auto windowed_outcome = process(uniform(2400), fixed);
  ASSERT_TRUE(windowed_outcome.ok()) << windowed_outcome.error().describe();
  ASSERT_EQ(windowed_outcome->processed.findings.size(), 1u);
  EXPECT_NEAR(windowed_outcome->processed.findings[0].score, windowed(2400, 2200, 801), 1e-4);

  config::InferenceConfig raw = classifier();
  raw.mapping = config::ValueMapping::raw;
  raw.scale = 1.0 / 4000;
  auto raw_outcome = process(uniform(2400), raw);
  ASSERT_TRUE(raw_outcome.ok()) << raw_outcome.error().describe();
  ASSERT_EQ(raw_outcome->processed.findings.size(), 1u);
  EXPECT_NEAR(raw_outcome->processed.findings[0].score, 0.6, 1e-4);
}

TEST_F(InferenceTest, mean_and_std_normalise_after_the_mapping) {
  config::InferenceConfig normalised = classifier();
  normalised.mapping = config::ValueMapping::raw;
  normalised.scale = 1.0 / 4000;  // 0.6
  normalised.mean = {0.2};
  normalised.stddev = {0.5};      // (0.6 - 0.2) / 0.5 = 0.8
  auto outcome = process(uniform(2400), normalised);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_NEAR(outcome->processed.findings[0].score, 0.8, 1e-4);
}

TEST_F(InferenceTest, rgb_samples_reach_a_three_channel_model_in_rgb_order) {
  testing::ImageSpec spec;
  spec.photometric = "RGB";
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window.reset();
  spec.planar_configuration = 1;
  spec.pixel = [](int, int, int, int sample) { return sample == 0 ? 255 : sample == 1 ? 128 : 0; };
  config::InferenceConfig inference = classifier();
  inference.model = model("classifier_rgb.onnx");
  inference.channels = 3;
  inference.labels = {"red", "green", "blue"};
  inference.threshold = 0.3;
  auto outcome = process(spec, inference);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  const auto& findings = outcome->processed.findings;
  ASSERT_EQ(findings.size(), 2u);
  EXPECT_EQ(findings[0].label, "red");
  EXPECT_NEAR(findings[0].score, 1.0, 1e-4);
  EXPECT_EQ(findings[1].label, "green");
  EXPECT_NEAR(findings[1].score, 128.0 / 255, 1e-4);
}

TEST_F(InferenceTest, a_gray_image_is_replicated_for_a_three_channel_model) {
  config::InferenceConfig inference = classifier();
  inference.model = model("classifier_rgb.onnx");
  inference.channels = 3;
  inference.labels = {"red", "green", "blue"};
  auto outcome = process(uniform(2400), inference);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 3u);
  for (const auto& finding : outcome->processed.findings) EXPECT_NEAR(finding.score, windowed(2400), 1e-4);
}

TEST_F(InferenceTest, an_nhwc_model_gets_its_layout) {
  config::InferenceConfig inference = classifier();
  inference.model = model("classifier_nhwc.onnx");
  inference.layout = config::TensorLayout::nhwc;
  inference.labels = {"nodule"};
  auto outcome = process(uniform(2400), inference);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_NEAR(outcome->processed.findings[0].score, windowed(2400), 1e-4);
}

TEST_F(InferenceTest, the_output_key_selects_another_output_of_the_model) {
  config::InferenceConfig inference = classifier();
  inference.output = "mean";
  inference.labels = {"brightness"};
  auto outcome = process(uniform(2400), inference);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(outcome->processed.findings[0].label, "brightness");
}

TEST_F(InferenceTest, segmentation_outlines_the_mask_boundary_in_the_text_ink_and_leaves_the_rest) {
  const testing::ImageSpec spec = rectangle();
  auto outcome = process(spec, segmenter());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(outcome->processed.findings[0].label, "lesion");
  EXPECT_GT(outcome->processed.findings[0].score, 0.99);

  const std::string text = annotation_text("ScreenedByAI", outcome->processed.findings);
  const cv::Rect box = place_text(text, spec.columns, spec.rows).box;
  ASSERT_LT(box.y + box.height, 48) << "the text box must not reach the rectangle for this test";
  int border = 0;
  for (int row = 0; row < spec.rows; ++row) {
    for (int column = 0; column < spec.columns; ++column) {
      if (box.contains(cv::Point(column, row))) continue;
      // The model's 32x32 map is resized back bilinearly: the four corner pixels fall just below the threshold
      // (0.625 x 0.625 of a full score), so the outline cuts them.
      const bool corner = (row == 48 || row == 95) && (column == 32 || column == 95);
      if (corner) continue;
      const int value = stored_at(outcome->data(), spec, 0, row, column);
      const int original = spec.pixel(0, row, column, 0);
      if (on_rectangle_border(row, column)) {
        ++border;
        EXPECT_EQ(value, kWindowWhiteInk) << "border pixel " << row << "," << column;
      } else {
        ASSERT_EQ(value, original) << "pixel " << row << "," << column << " off the border changed";
      }
    }
  }
  EXPECT_EQ(border, 2 * 48 + 2 * 64 - 4 - 4);
}

TEST_F(InferenceTest, nothing_is_outlined_when_nothing_is_found_but_the_marker_is_still_burned) {
  const testing::ImageSpec spec = rectangle(1, {});  // all dark: the mask is empty
  auto outcome = process(spec, segmenter());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_TRUE(outcome->processed.findings.empty());
  const cv::Rect box = place_text("ScreenedByAI", spec.columns, spec.rows).box;
  int changed_in_box = 0;
  for (int row = 0; row < spec.rows; ++row) {
    for (int column = 0; column < spec.columns; ++column) {
      const bool changed = stored_at(outcome->data(), spec, 0, row, column) != kDark;
      if (box.contains(cv::Point(column, row))) {
        changed_in_box += changed;
      } else {
        ASSERT_FALSE(changed) << "pixel " << row << "," << column;
      }
    }
  }
  EXPECT_GT(changed_in_box, 0);
  EXPECT_NE(text_of(outcome->data(), DCM_ImageComments).find("nodule-screen 1.2.3: no findings"), std::string::npos);
}

TEST_F(InferenceTest, every_frame_goes_through_the_model_and_only_frames_with_a_region_get_an_outline) {
  const testing::ImageSpec spec = rectangle(3, {1});
  auto outcome = process(spec, segmenter());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(stored_at(outcome->data(), spec, 1, 48, 60), kWindowWhiteInk);
  EXPECT_EQ(stored_at(outcome->data(), spec, 0, 48, 60), kDark);
  EXPECT_EQ(stored_at(outcome->data(), spec, 2, 48, 60), kDark);
}

TEST_F(InferenceTest, frames_first_and_middle_select_one_frame) {
  const testing::ImageSpec spec = rectangle(3, {1});
  config::InferenceConfig first = segmenter();
  first.frames = config::FrameSelection::first;
  auto first_outcome = process(spec, first);
  ASSERT_TRUE(first_outcome.ok()) << first_outcome.error().describe();
  EXPECT_TRUE(first_outcome->processed.findings.empty());
  EXPECT_EQ(stored_at(first_outcome->data(), spec, 1, 48, 60), kBright);

  config::InferenceConfig middle = segmenter();
  middle.frames = config::FrameSelection::middle;
  auto middle_outcome = process(spec, middle);
  ASSERT_TRUE(middle_outcome.ok()) << middle_outcome.error().describe();
  EXPECT_EQ(middle_outcome->processed.findings.size(), 1u);
  EXPECT_EQ(stored_at(middle_outcome->data(), spec, 1, 48, 60), kWindowWhiteInk);
}

TEST_F(InferenceTest, records_the_algorithm_the_model_hash_and_the_findings_in_the_output) {
  auto outcome = process(uniform(2400), classifier());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  DcmDataset& data = outcome->data();
  auto hash = sha256_of_file(model("classifier.onnx"));
  ASSERT_TRUE(hash.ok());

  DcmItem* equipment = nullptr;
  ASSERT_TRUE(data.findAndGetSequenceItem(DCM_ContributingEquipmentSequence, equipment, -1).good());
  EXPECT_EQ(text_of(*equipment, DCM_Manufacturer), "creni-node");
  EXPECT_EQ(text_of(*equipment, DCM_ManufacturerModelName), "nodule-screen");
  EXPECT_EQ(text_of(*equipment, DCM_SoftwareVersions, 0), "1.2.3");
  EXPECT_EQ(text_of(*equipment, DCM_SoftwareVersions, 1), hash.value());
  EXPECT_NE(text_of(*equipment, DCM_ContributionDescription).find("nodule 0.84"), std::string::npos);
  DcmItem* purpose = nullptr;
  ASSERT_TRUE(equipment->findAndGetSequenceItem(DCM_PurposeOfReferenceCodeSequence, purpose, 0).good());
  EXPECT_EQ(text_of(*purpose, DCM_CodeValue), "109102");
  EXPECT_EQ(text_of(*purpose, DCM_CodingSchemeDesignator), "DCM");

  EXPECT_EQ(text_of(data, DCM_ImageComments), "ScreenedByAI nodule-screen 1.2.3: nodule 0.84");
  const std::string derivation = text_of(data, DCM_DerivationDescription);
  EXPECT_NE(derivation.find("describe, infer, burn_in"), std::string::npos) << derivation;
  EXPECT_NE(derivation.find("infer nodule-screen 1.2.3 (model sha256 " + hash.value() + ")"), std::string::npos) << derivation;
}

// Start-up refusals: ProcessingChain::build is what a worker runs before it takes its first job.
class InferenceRefusal : public InferenceTest {
 protected:
  Error refusal(const config::InferenceConfig& inference) {
    auto chain = ProcessingChain::build(with_infer(), inference);
    EXPECT_FALSE(chain.ok()) << "expected the chain to refuse the model";
    return chain.ok() ? Error{} : chain.error();
  }
};

TEST_F(InferenceRefusal, a_missing_model_file) {
  config::InferenceConfig inference = classifier();
  inference.model = temp_.path() / "nowhere.onnx";
  const Error error = refusal(inference);
  EXPECT_EQ(error.code, "invalid_config");
  EXPECT_NE(error.message.find("inference.model: cannot read"), std::string::npos) << error.message;
}

TEST_F(InferenceRefusal, no_model_configured) {
  config::InferenceConfig inference = classifier();
  inference.model.clear();
  const Error error = refusal(inference);
  EXPECT_EQ(error.code, "invalid_config");
  EXPECT_NE(error.message.find("inference.model: required"), std::string::npos) << error.message;
}

TEST_F(InferenceRefusal, a_file_that_is_not_a_model) {
  config::InferenceConfig inference = classifier();
  inference.model = temp_.path() / "garbage.onnx";
  std::ofstream(inference.model) << "this is not a model, just text\n";
  const Error error = refusal(inference);
  EXPECT_EQ(error.code, "invalid_config");
  EXPECT_NE(error.message.find("inference.model: not a valid ONNX model"), std::string::npos) << error.message;
}

TEST_F(InferenceRefusal, an_input_size_the_model_does_not_declare) {
  config::InferenceConfig inference = classifier();
  inference.input_width = 64;
  inference.input_height = 64;
  const Error error = refusal(inference);
  EXPECT_EQ(error.code, "invalid_config");
  EXPECT_NE(error.message.find("inference.input_size: the model's input is 1x1x32x32, [inference] gives 1x1x64x64"),
            std::string::npos)
      << error.message;
}

TEST_F(InferenceRefusal, a_channel_count_the_model_does_not_declare) {
  config::InferenceConfig inference = classifier();
  inference.channels = 3;
  const Error error = refusal(inference);
  EXPECT_NE(error.message.find("inference.channels"), std::string::npos) << error.message;
}

TEST_F(InferenceRefusal, a_shape_only_the_probe_run_can_reveal) {
  config::InferenceConfig inference = classifier();
  inference.model = model("dynamic_dense.onnx");  // declares 1x1xHxW but only works for 32x32
  inference.input_width = 64;
  inference.input_height = 64;
  const Error error = refusal(inference);
  EXPECT_NE(error.message.find("inference.input_size: the model fails on a 1x1x64x64 input"), std::string::npos)
      << error.message;
  inference.input_width = 32;
  inference.input_height = 32;
  EXPECT_TRUE(ProcessingChain::build(with_infer(), inference).ok());
}

TEST_F(InferenceRefusal, more_labels_than_the_model_gives_scores) {
  config::InferenceConfig inference = classifier();
  inference.labels = {"a", "b", "c"};
  const Error error = refusal(inference);
  EXPECT_NE(error.message.find("inference.labels: output 'scores' is 1x2 (2 scores) but 3 labels are listed"),
            std::string::npos)
      << error.message;
}

TEST_F(InferenceRefusal, an_output_the_model_does_not_have) {
  config::InferenceConfig inference = classifier();
  inference.output = "logits";
  const Error error = refusal(inference);
  EXPECT_NE(error.message.find("inference.output: the model has no output 'logits' (outputs: scores, mean)"),
            std::string::npos)
      << error.message;
}

TEST_F(InferenceRefusal, segmentation_with_a_model_that_gives_scores) {
  config::InferenceConfig inference = segmenter();
  inference.model = model("classifier.onnx");
  const Error error = refusal(inference);
  EXPECT_NE(error.message.find("inference.task: segmentation needs an output of 1xKxHxW"), std::string::npos)
      << error.message;
}

}  // namespace
}  // namespace creni::process
