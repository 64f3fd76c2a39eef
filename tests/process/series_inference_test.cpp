// Series step "infer": the stack resampled to the model's depth, the models of make_test_models.py run on stacks
// with known values (series-level and per-slice scores, slices as channels, a symbolic depth), the start-up
// refusals, and the contained process's own entry point from series.json to result.json.
#include "creni/process/series_inference.hpp"

#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "creni/common/content_hash.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"
#include "test_models.hpp"

namespace creni::process {
namespace {

constexpr int kSide = 16;

StackSlice slice_of(const std::string& uid, cv::Mat values) {
  StackSlice slice;
  slice.sop_instance_uid = uid;
  slice.values = std::move(values);
  return slice;
}

StackSlice uniform_slice(const std::string& uid, float value, int channels = 1) {
  return slice_of(uid, cv::Mat(kSide, kSide, CV_32FC(channels), cv::Scalar::all(value)));
}

std::vector<StackSlice> stack_of_values(const std::vector<float>& values) {
  std::vector<StackSlice> slices;
  for (std::size_t i = 0; i < values.size(); ++i) slices.push_back(uniform_slice("s" + std::to_string(i), values[i]));
  return slices;
}

float at(const cv::Mat& blob, std::initializer_list<int> index) {
  std::vector<int> position(index);
  return blob.at<float>(position.data());
}

TEST(SeriesStackBlob, resamples_linearly_along_the_stack_keeping_its_first_and_last_slices) {
  const auto slices = stack_of_values({0.0F, 1.0F});
  const cv::Mat blob = stack_blob(slices, 3, config::StackLayout::ncdhw);
  ASSERT_EQ(blob.dims, 5);
  EXPECT_EQ(std::vector<int>(blob.size.p, blob.size.p + 5), (std::vector<int>{1, 1, 3, kSide, kSide}));
  EXPECT_FLOAT_EQ(at(blob, {0, 0, 0, 5, 5}), 0.0F);
  EXPECT_FLOAT_EQ(at(blob, {0, 0, 1, 5, 5}), 0.5F);
  EXPECT_FLOAT_EQ(at(blob, {0, 0, 2, 5, 5}), 1.0F);

  const cv::Mat channels = stack_blob(stack_of_values({0.25F, 0.5F, 0.75F}), 3, config::StackLayout::ndhw);
  ASSERT_EQ(channels.dims, 4);
  EXPECT_EQ(std::vector<int>(channels.size.p, channels.size.p + 4), (std::vector<int>{1, 3, kSide, kSide}));
  EXPECT_FLOAT_EQ(at(channels, {0, 2, 0, 0}), 0.75F) << "equal depth: one to one";

  // RGB slices in "ncdhw": channel-major, then slice.
  std::vector<StackSlice> rgb = {slice_of("a", cv::Mat(2, 2, CV_32FC3, cv::Scalar(0.1, 0.2, 0.3))),
                                 slice_of("b", cv::Mat(2, 2, CV_32FC3, cv::Scalar(0.4, 0.5, 0.6)))};
  const cv::Mat colour = stack_blob(rgb, 2, config::StackLayout::ncdhw);
  EXPECT_FLOAT_EQ(at(colour, {0, 2, 1, 1, 1}), 0.6F);
  EXPECT_FLOAT_EQ(at(colour, {0, 1, 0, 0, 0}), 0.2F);

  EXPECT_DOUBLE_EQ(stack_source(0, 1, 5), 2.0) << "one model slice: the middle of the stack";
  EXPECT_DOUBLE_EQ(stack_source(3, 4, 1), 0.0) << "one slice: repeated";
  EXPECT_DOUBLE_EQ(stack_source(3, 4, 8), 7.0);
}

class SeriesInferenceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<harness::TempDir>("creni-series-models");
    model_error_ = test_models::build_test_models(models_->path());
  }
  static void TearDownTestSuite() { models_.reset(); }
  void SetUp() override { ASSERT_TRUE(model_error_.empty()) << model_error_; }

  static std::filesystem::path model(const std::string& name) { return models_->path() / name; }

  static config::SeriesInferConfig settings(const std::string& name, std::vector<std::string> labels, double threshold) {
    config::SeriesInferConfig infer;
    infer.model.model = model(name);
    infer.model.input_width = kSide;
    infer.model.input_height = kSide;
    infer.model.labels = std::move(labels);
    infer.model.threshold = threshold;
    return infer;
  }

  static Result<std::unique_ptr<SeriesInference>> build(const config::SeriesInferConfig& infer) {
    auto loaded = OpenCvDnnModel::load(infer.model.model, "", 1);
    if (!loaded) return loaded.error();
    return SeriesInference::build(infer, std::move(loaded).value(), "series.infer");
  }

  static std::unique_ptr<harness::TempDir> models_;
  static std::string model_error_;
};

std::unique_ptr<harness::TempDir> SeriesInferenceTest::models_;
std::string SeriesInferenceTest::model_error_;

TEST_F(SeriesInferenceTest, a_3d_model_scores_the_stack_resampled_to_its_depth) {
  auto step = build(settings("series_mean.onnx", {"mean", "rest"}, 0.3));
  ASSERT_TRUE(step.ok()) << step.error().describe();
  auto uniform = step.value()->run(stack_of_values({0.2F, 0.2F, 0.2F, 0.2F}));
  ASSERT_TRUE(uniform.ok()) << uniform.error().describe();
  ASSERT_EQ(uniform->size(), 1U) << "mean 0.2 is below the threshold";
  EXPECT_EQ(uniform->at(0).label, "rest");
  EXPECT_NEAR(uniform->at(0).score, 0.8, 1e-5);
  EXPECT_TRUE(uniform->at(0).instances.empty()) << "a series-level score names no slice";

  // Seven slices rising from 0 to 1 become four: 0, 1/3, 2/3, 1 (mean 0.5), not the first four (mean 0.25).
  EXPECT_EQ(step.value()->depth_for(7), 4U);
  auto resampled = step.value()->run(stack_of_values({0.0F, 1 / 6.F, 2 / 6.F, 3 / 6.F, 4 / 6.F, 5 / 6.F, 1.0F}));
  ASSERT_TRUE(resampled.ok()) << resampled.error().describe();
  ASSERT_EQ(resampled->size(), 2U);
  EXPECT_NEAR(resampled->at(0).score, 0.5, 1e-5);
}

TEST_F(SeriesInferenceTest, per_slice_scores_refer_to_the_slices_at_or_above_the_threshold) {
  auto step = build(settings("series_slices.onnx", {"bright"}, 0.5));
  ASSERT_TRUE(step.ok()) << step.error().describe();
  auto found = step.value()->run(stack_of_values({0.0F, 0.0F, 0.9F, 0.1F}));
  ASSERT_TRUE(found.ok()) << found.error().describe();
  ASSERT_EQ(found->size(), 1U);
  EXPECT_NEAR(found->at(0).score, 0.9, 1e-5);
  EXPECT_EQ(found->at(0).instances, std::vector<std::string>{"s2"});

  // Eight slices to four model slices (0, 2.33, 4.67, 7): the bright model slice maps back to its nearest slice.
  auto resampled = step.value()->run(stack_of_values({0, 0, 0, 0, 1, 1, 0, 0}));
  ASSERT_TRUE(resampled.ok()) << resampled.error().describe();
  ASSERT_EQ(resampled->size(), 1U);
  EXPECT_EQ(resampled->at(0).instances, std::vector<std::string>{"s5"});

  auto nothing = step.value()->run(stack_of_values({0.1F, 0.1F, 0.1F, 0.1F}));
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->empty());
}

TEST_F(SeriesInferenceTest, slices_as_channels_of_a_2d_model) {
  config::SeriesInferConfig infer = settings("series_channels.onnx", {"mean"}, 0.0);
  infer.layout = config::StackLayout::ndhw;
  auto step = build(infer);
  ASSERT_TRUE(step.ok()) << step.error().describe();
  auto found = step.value()->run(stack_of_values({0.1F, 0.2F, 0.3F, 0.4F}));
  ASSERT_TRUE(found.ok()) << found.error().describe();
  ASSERT_EQ(found->size(), 1U);
  EXPECT_NEAR(found->at(0).score, 0.25, 1e-5);
}

TEST_F(SeriesInferenceTest, a_symbolic_depth_takes_the_series_as_it_comes_and_a_series_the_model_cannot_take_fails) {
  auto step = build(settings("series_dense.onnx", {"mean"}, 0.0));
  ASSERT_TRUE(step.ok()) << step.error().describe();
  EXPECT_EQ(step.value()->depth_for(3), 3U);
  auto four = step.value()->run(stack_of_values({0.5F, 0.5F, 0.5F, 0.5F}));
  ASSERT_TRUE(four.ok()) << four.error().describe();
  EXPECT_NEAR(four->at(0).score, 0.5, 1e-5);
  auto three = step.value()->run(stack_of_values({0.5F, 0.5F, 0.5F}));
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.error().code, "inference_failed");
  EXPECT_NE(three.error().message.find("1x1x3x16x16"), std::string::npos) << three.error().message;
}

TEST_F(SeriesInferenceTest, a_model_that_does_not_fit_is_refused_before_any_series_naming_the_key) {
  const auto refused_key = [](const config::SeriesInferConfig& infer) {
    auto step = build(infer);
    if (step.ok()) return std::string("built");
    EXPECT_EQ(step.error().code, "invalid_config") << step.error().describe();
    return step.error().message.substr(0, step.error().message.find(':'));
  };
  config::SeriesInferConfig depth = settings("series_mean.onnx", {"mean", "rest"}, 0.5);
  depth.depth = 5;
  EXPECT_EQ(refused_key(depth), "series.infer.depth");
  config::SeriesInferConfig layout = settings("series_mean.onnx", {"mean", "rest"}, 0.5);
  layout.layout = config::StackLayout::ndhw;
  EXPECT_EQ(refused_key(layout), "series.infer.layout");
  EXPECT_EQ(refused_key(settings("series_mean.onnx", {"a", "b", "c"}, 0.5)), "series.infer.labels");
  config::SeriesInferConfig size = settings("series_mean.onnx", {"mean", "rest"}, 0.5);
  size.model.input_width = 32;
  EXPECT_EQ(refused_key(size), "series.infer.input_size");
  config::SeriesInferConfig probe = settings("series_dense.onnx", {"mean"}, 0.5);
  probe.depth = 3;  // a symbolic depth made known: the probe shows the model cannot take it
  EXPECT_EQ(refused_key(probe), "series.infer.depth");
}

TEST_F(SeriesInferenceTest, the_shipped_example_model_fits_the_defaults_with_its_label) {
  harness::TempDir folder("creni-series-example");
  const auto made = harness::run_command({"/usr/bin/python3",
                                          std::string(CRENI_SOURCE_DIR) + "/examples/series-model/make_slice_brightness.py",
                                          folder.path().string()},
                                         std::chrono::seconds(60));
  ASSERT_EQ(made.exit_code, 0) << made.err;
  config::SeriesInferConfig infer;  // every default: input_size [224, 224], one channel, "ncdhw", threshold 0.5
  infer.model.model = folder.path() / "slice_brightness.onnx";
  infer.model.labels = {"bright"};
  auto step = build(infer);
  ASSERT_TRUE(step.ok()) << step.error().describe();
  std::vector<StackSlice> slices;
  for (int i = 0; i < 5; ++i) {
    slices.push_back(slice_of("s" + std::to_string(i), cv::Mat(224, 224, CV_32FC1, cv::Scalar(i == 4 ? 0.9 : 0.1))));
  }
  auto found = step.value()->run(slices);
  ASSERT_TRUE(found.ok()) << found.error().describe();
  ASSERT_EQ(found->size(), 1U);
  EXPECT_EQ(found->at(0).label, "bright");
  EXPECT_EQ(found->at(0).instances, std::vector<std::string>{"s4"}) << "the last slice, resampled to 16 and back";
}

TEST_F(SeriesInferenceTest, the_contained_entry_point_reads_series_json_in_its_order_and_writes_result_json) {
  const dicom::DcmtkRuntime runtime;
  harness::TempDir work("creni-series-infer");
  // Stored values 0, 0, 4095, 0 in the order series.json lists them; raw mapping to 0..1.
  nlohmann::json instances = nlohmann::json::array();
  std::vector<std::string> uids;
  for (int i = 0; i < 4; ++i) {
    ::creni::testing::ImageSpec spec;
    spec.rows = 24;  // resized to the model's 16 x 16
    spec.columns = 20;
    spec.sop_instance_uid = ::creni::testing::fresh_uid();
    spec.pixel = [i](int, int, int, int) { return i == 2 ? 4095 : 0; };
    const auto file = work.path() / ("000" + std::to_string(i + 1) + ".dcm");
    ASSERT_TRUE(::creni::testing::write_image(spec, file).ok());
    instances.push_back({{"file", file.string()}, {"sop_instance_uid", spec.sop_instance_uid}});
    uids.push_back(spec.sop_instance_uid);
  }
  const nlohmann::json series = {{"contract", 1}, {"order", "instance_number"}, {"instances", instances}};
  std::ofstream(work.path() / "series.json") << series.dump();
  config::SeriesInferConfig infer = settings("series_slices.onnx", {"bright"}, 0.5);
  infer.model.mapping = config::ValueMapping::raw;
  infer.model.scale = 1.0 / 4095;
  std::ofstream(work.path() / "settings.json") << series_infer_settings(infer, "series.infer", 1 << 30);

  ASSERT_TRUE(check_series_inference(work.path() / "settings.json").ok());
  const Status ran = run_series_inference(work.path() / "settings.json", work.path() / "series.json", work.path() / "result.json");
  ASSERT_TRUE(ran.ok()) << ran.error().describe();
  std::ifstream in(work.path() / "result.json");
  const nlohmann::json result = nlohmann::json::parse(in, nullptr, false);
  ASSERT_TRUE(result.is_object());
  ASSERT_EQ(result["findings"].size(), 1U) << result.dump();
  EXPECT_EQ(result["findings"][0]["label"], "bright");
  EXPECT_NEAR(result["findings"][0]["score"].get<double>(), 1.0, 1e-5);
  EXPECT_EQ(result["findings"][0]["instances"], nlohmann::json::array({uids[2]}));
  EXPECT_EQ(result["algorithm"]["model_sha256"], sha256_of_file(model("series_slices.onnx")).value());
  EXPECT_EQ(result["algorithm"]["details"], "stack order instance_number; 4 slice(s), depth 4");

  // The settings name the table the operator wrote, so a refusal at start names the right key.
  infer.depth = 5;
  std::ofstream(work.path() / "settings.json") << series_infer_settings(infer, "gateway[0].series.infer", 1 << 30);
  const Status refused = check_series_inference(work.path() / "settings.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("gateway[0].series.infer.depth:", 0), 0U) << refused.error().message;
}

}  // namespace
}  // namespace creni::process
