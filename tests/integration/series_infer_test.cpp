// The series step "infer" end to end, through the built binary: a model (make_test_models.py) run in its contained
// process on a series sent with storescu and one dropped into the folder door, its findings in the series report
// (validated with dsr2xml and dciodvfy) next to an external module's, a series the model cannot take (recorded,
// no hang), and a model that does not fit refusing the start.
#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include "creni/common/content_hash.hpp"
#include "harness.hpp"
#include "node_under_test.hpp"
#include "process/test_models.hpp"
#include "series_fixture.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

const std::string kModule = std::string(CRENI_SOURCE_DIR) + "/examples/series-module/slice_stats.py";

class SeriesInferEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = std::make_unique<harness::TempDir>("creni-series-infer-models");
    model_error_ = process::test_models::build_test_models(models_->path());
  }
  static void TearDownTestSuite() { models_.reset(); }
  void SetUp() override { ASSERT_TRUE(model_error_.empty()) << model_error_; }

  static std::string model(const std::string& name) { return (models_->path() / name).string(); }

  // [series] with `extra` keys and [series.infer] for a 16 x 16 model reading stored values as 0..1.
  static NodeUnderTest::Settings infer_settings(const std::string& extra, const std::string& name,
                                                const std::string& infer_keys) {
    NodeUnderTest::Settings settings;
    settings.tables = "[series]\n" + extra + "\n[series.infer]\nmodel = \"" + model(name) +
                      "\"\ninput_size = [16, 16]\nmapping = \"raw\"\nscale = " + std::to_string(1.0 / 4095) + "\n" +
                      infer_keys + "\n";
    return settings;
  }

  static std::unique_ptr<harness::TempDir> models_;
  static std::string model_error_;
};

std::unique_ptr<harness::TempDir> SeriesInferEndToEnd::models_;
std::string SeriesInferEndToEnd::model_error_;

// The result of the slice with InstanceNumber `number`, as OUTPUT holds it.
std::string result_uid_of_slice(const NodeUnderTest& node, int number) {
  for (const auto& output : node.outputs()) {
    if (tag_of(output, DCM_Modality) != "SR" && tag_of(output, DCM_InstanceNumber) == std::to_string(number)) {
      return tag_of(output, DCM_SOPInstanceUID);
    }
  }
  return {};
}

TEST_F(SeriesInferEndToEnd, a_series_sent_with_storescu_is_reported_with_the_models_finding_on_the_slice_it_found) {
  NodeUnderTest node(infer_settings("idle = 120\nmax_wait = 300\ncomplete_on_release = true", "series_slices.onnx",
                                    "labels = [\"bright\"]\nthreshold = 0.5\nalgorithm_version = \"1.0\""));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.fill_slices_with([](int index) { return index == 2 ? 4095 : 100; });
  series.send(node, 0, 4);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.summary, "4 instance(s): bright 1.00") << run.summary;

  const std::string xml = report_xml(run.result);
  EXPECT_NE(xml.find("bright"), std::string::npos) << xml;
  EXPECT_NE(xml.find("series_slices"), std::string::npos) << "the algorithm's name: " << xml;
  EXPECT_NE(xml.find("step infer; model sha256 " + sha256_of_file(model("series_slices.onnx")).value()), std::string::npos) << xml;
  EXPECT_NE(xml.find("stack order slice_position; 4 slice(s), depth 4"), std::string::npos) << xml;
  // The bright slice (InstanceNumber 3) is referenced by its result as evidence, as a source and by the finding.
  const std::string bright = result_uid_of_slice(node, 3);
  ASSERT_FALSE(bright.empty());
  EXPECT_EQ(occurrences(xml, bright), 3U) << xml;
  EXPECT_EQ(occurrences(xml, result_uid_of_slice(node, 1)), 2U) << "a dark slice: evidence and source only";
  const auto checked = harness::run_command({harness::find_program("dciodvfy"), run.result});
  EXPECT_EQ(checked.err.find("Error"), std::string::npos) << checked.err;
  EXPECT_TRUE(harness::files_below(node.state() / "series-work").empty()) << "no work folder left behind";
}

TEST_F(SeriesInferEndToEnd, the_model_and_an_external_module_report_in_one_sr_from_the_folder_door) {
  NodeUnderTest::Settings settings =
      infer_settings("idle = 1\nmax_wait = 300\nsteps = [\"external\", \"infer\"]", "series_mean.onnx",
                     "labels = [\"mean\", \"rest\"]\nthreshold = 0");
  settings.tables += "[series.external]\ncommand = [\"/usr/bin/python3\", \"" + kModule + "\"]\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  // Six slices: resampled to the model's four. Stored 0..4095 rising along the stack: mean one half.
  series.fill_slices_with([](int index) { return 4095 - index * 819; });
  series.drop(node, 0, 6);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_NE(run.summary.find("slices: 6"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("mean 0.50, rest 0.50"), std::string::npos) << run.summary;
  const std::string xml = report_xml(run.result);
  EXPECT_NE(xml.find("slice_stats"), std::string::npos) << xml;
  EXPECT_NE(xml.find("series_mean"), std::string::npos) << xml;
  EXPECT_NE(xml.find("6 slice(s) resampled to depth 4"), std::string::npos) << xml;
  EXPECT_NE(xml.find("step external"), std::string::npos) << xml;
  const auto checked = harness::run_command({harness::find_program("dciodvfy"), run.result});
  EXPECT_EQ(checked.err.find("Error"), std::string::npos) << checked.err;
}

TEST_F(SeriesInferEndToEnd, a_series_the_model_cannot_take_fails_with_the_reason_recorded_and_the_images_still_done) {
  // A symbolic depth, but a dense layer that takes four slices only: a series of three fails each attempt at once.
  NodeUnderTest node(infer_settings("idle = 1\nmax_wait = 300", "series_dense.onnx", "labels = [\"mean\"]"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 3);
  const SeriesRunView run = wait_for_run(node, series, 1, "failed", 60s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_NE(run.summary.find("inference_failed"), std::string::npos) << run.summary;
  EXPECT_NE(run.summary.find("1x1x3x16x16"), std::string::npos) << run.summary;
  EXPECT_NE(node.status_json().find("\"reason\":\"poison\""), std::string::npos) << node.status_json();
  const auto outputs = node.outputs();
  EXPECT_EQ(outputs.size(), 3U) << "the images themselves are processed";
  for (const auto& output : outputs) EXPECT_NE(tag_of(output, DCM_Modality), "SR") << "no report of a failed run";
}

TEST_F(SeriesInferEndToEnd, a_model_that_does_not_fit_refuses_the_start_with_the_key) {
  NodeUnderTest node(infer_settings("idle = 1", "series_mean.onnx", "labels = [\"mean\", \"rest\"]\ndepth = 5"));
  const auto run = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string()}, 60s);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("series.infer.depth"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("1x1x4x16x16"), std::string::npos) << "the model's declared input: " << run.err;

  NodeUnderTest missing(infer_settings("idle = 1\nsteps = [\"infer\"]", "no_such_model.onnx", "labels = [\"x\"]"));
  const auto refused = harness::run_command({CRENI_NODE_BINARY, "run", "--config", missing.config_file().string()}, 60s);
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("series.infer.model"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace creni::testing
