// The series module contract: the stack order, series.json, limits and result.json, with the shipped example.
#include "creni/process/series_module.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/series/series_job.hpp"
#include "dicom_factory.hpp"
#include "harness.hpp"

namespace creni::process {
namespace {

using testing::ImageSpec;

SeriesModuleInstance slice(const std::string& uid, const std::string& number, const std::string& z) {
  SeriesModuleInstance instance;
  instance.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
  instance.sop_instance_uid = uid;
  instance.instance_number = number;
  if (!z.empty()) {
    instance.image_position = "0\\0\\" + z;
    instance.image_orientation = "1\\0\\0\\0\\1\\0";
  }
  return instance;
}

std::vector<std::string> uids(const std::vector<SeriesModuleInstance>& instances) {
  std::vector<std::string> out;
  for (const auto& instance : instances) out.push_back(instance.sop_instance_uid);
  return out;
}

TEST(SeriesStack, is_ordered_along_the_normal_then_by_instance_number_then_as_given) {
  EXPECT_EQ(uids(stack_of({slice("a", "1", "10"), slice("b", "2", "-5"), slice("c", "3", "2.5")}).instances),
            (std::vector<std::string>{"b", "c", "a"}));
  // A plane whose normal points the other way: positions along it, not raw z.
  auto flipped = std::vector<SeriesModuleInstance>{slice("a", "1", "10"), slice("b", "2", "-5")};
  for (auto& instance : flipped) instance.image_orientation = "0\\1\\0\\1\\0\\0";
  EXPECT_EQ(uids(stack_of(flipped).instances), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(uids(stack_of({slice("a", "3", ""), slice("b", "1", "4"), slice("c", "2", "")}).instances),
            (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_EQ(uids(stack_of({slice("a", "", ""), slice("b", "1", "")}).instances), (std::vector<std::string>{"a", "b"}));
}

TEST(SeriesStack, records_which_order_it_used_for_shuffled_oblique_and_missing_positions) {
  // Shuffled positions along z.
  std::vector<SeriesModuleInstance> shuffled;
  for (const char* z : {"7.5", "-2.5", "12.5", "2.5"}) shuffled.push_back(slice(std::string("z") + z, "", z));
  const SeriesStack by_position = stack_of(shuffled);
  EXPECT_EQ(by_position.order, StackOrder::slice_position);
  EXPECT_EQ(uids(by_position.instances), (std::vector<std::string>{"z-2.5", "z2.5", "z7.5", "z12.5"}));

  // An oblique plane (rows along x, columns tilted 30 degrees from y towards z): the normal is (0, -0.5, 0.866).
  // Slices 4 mm apart along it, positions given out of order and with InstanceNumbers that disagree.
  std::vector<SeriesModuleInstance> oblique;
  for (const int step : {2, 0, 3, 1}) {
    SeriesModuleInstance instance = slice("o" + std::to_string(step), std::to_string(10 - step), "");
    const double along = 4.0 * step;
    instance.image_position = "5\\" + std::to_string(-0.5 * along + 20) + "\\" + std::to_string(0.8660254 * along - 3);
    instance.image_orientation = "1\\0\\0\\0\\0.8660254\\0.5";
    oblique.push_back(instance);
  }
  const SeriesStack tilted = stack_of(oblique);
  EXPECT_EQ(tilted.order, StackOrder::slice_position);
  EXPECT_EQ(uids(tilted.instances), (std::vector<std::string>{"o0", "o1", "o2", "o3"}));
  const auto positions = slice_positions(tilted.instances);
  ASSERT_EQ(positions.size(), 4U);
  EXPECT_NEAR(positions[1] - positions[0], 4.0, 1e-4) << "the spacing along the normal";

  // One slice without ImagePositionPatient: InstanceNumber orders all of them, and says so.
  std::vector<SeriesModuleInstance> missing = {slice("a", "3", "1"), slice("b", "1", ""), slice("c", "2", "9")};
  const SeriesStack by_number = stack_of(missing);
  EXPECT_EQ(by_number.order, StackOrder::instance_number);
  EXPECT_EQ(uids(by_number.instances), (std::vector<std::string>{"b", "c", "a"}));

  // Neither for every slice: as they arrived.
  const SeriesStack arrival = stack_of({slice("a", "", ""), slice("b", "2", "")});
  EXPECT_EQ(arrival.order, StackOrder::arrival);
  EXPECT_EQ(uids(arrival.instances), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(to_string(StackOrder::instance_number), "instance_number");
}

TEST(SeriesResult, reads_findings_with_instances_and_points_and_refuses_what_is_not_in_the_series) {
  auto findings = parse_series_result_json(
      R"({"findings": [{"label": "nodule", "score": 0.8, "instances": ["1.2"], "point": [3, 4.5]},
                       {"label": "count", "score": 1}]})",
      {"1.2", "1.3"});
  ASSERT_TRUE(findings.ok()) << findings.error().describe();
  ASSERT_EQ(findings->size(), 2U);
  EXPECT_EQ(findings->at(0).instances, std::vector<std::string>{"1.2"});
  EXPECT_EQ(findings->at(0).point, (std::vector<double>{3, 4.5}));
  EXPECT_TRUE(findings->at(1).instances.empty());
  EXPECT_FALSE(parse_series_result_json(R"({"findings": [{"label": "x", "score": 0.5, "instances": ["9.9"]}]})", {"1.2"}).ok());
  EXPECT_FALSE(parse_series_result_json(R"({"findings": [{"label": "x", "score": 0.5, "point": [1, 2]}]})", {"1.2"}).ok());
  EXPECT_FALSE(parse_series_result_json(R"({"findings": [{"label": "x", "score": 2}]})", {}).ok());
  EXPECT_FALSE(parse_series_result_json(R"({"results": []})", {}).ok());
}

class SeriesModuleRun : public ::testing::Test {
 protected:
  // `count` slices written in reverse z order below the temp folder.
  SeriesModuleInput series_of(int count) {
    SeriesModuleInput input;
    input.gateway_id = "1";
    input.study_instance_uid = "1.2.3";
    input.series_instance_uid = "1.2.3.4";
    for (int i = 0; i < count; ++i) {
      ImageSpec spec;
      spec.sop_instance_uid = testing::fresh_uid();
      auto file = testing::make_image(spec);
      const auto path = dir_ / (spec.sop_instance_uid + ".dcm");
      EXPECT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
      SeriesModuleInstance instance = slice(spec.sop_instance_uid, std::to_string(i + 1), std::to_string(-i));
      instance.file = path;
      instance.rows = "64";
      instance.columns = "64";
      input.instances.push_back(instance);
    }
    return input;
  }

  config::SeriesConfig module(const std::vector<std::string>& command) {
    config::SeriesConfig series;
    series.enabled = true;
    series.steps = {"external"};
    series.external.command = command;
    series.external.timeout_s = 10;
    return series;
  }

  dicom::DcmtkRuntime runtime_;
  harness::TempDir dir_{"creni-series-module"};
  config::ProcessingConfig processing_;
};

TEST_F(SeriesModuleRun, the_example_reports_the_slice_count_and_the_mean_intensity_on_the_middle_slice) {
  auto made = SeriesModule::make(module({"/usr/bin/python3", std::string(CRENI_SOURCE_DIR) + "/examples/series-module/slice_stats.py"}),
                                 processing_, dir_ / "work");
  ASSERT_TRUE(made.ok()) << made.error().describe();
  const SeriesModuleInput input = series_of(3);
  auto ran = made->run(input);
  ASSERT_TRUE(ran.ok()) << ran.error().describe();
  const std::vector<SeriesFinding>* findings = &ran->findings;
  ASSERT_EQ(findings->size(), 2U);
  EXPECT_EQ(findings->at(0).label, "slices: 3");
  EXPECT_EQ(findings->at(1).label, "mean intensity");
  // The default test image is a gradient around the window center 2048 of a 12-bit range: about half.
  EXPECT_NEAR(findings->at(1).score, 2048.0 / 4095.0, 0.01);
  // The middle of the stack ordered along z (written in reverse): the second instance given.
  EXPECT_EQ(findings->at(1).instances, std::vector<std::string>{input.instances[1].sop_instance_uid});
  EXPECT_EQ(findings->at(1).point, (std::vector<double>{32, 32}));
  EXPECT_EQ(made->algorithm().name, "slice_stats");
  EXPECT_EQ(made->algorithm().model_sha256.size(), 64U);
  EXPECT_EQ(ran->algorithm.model_sha256, made->algorithm().model_sha256);
  EXPECT_EQ(ran->algorithm.details, "stack order slice_position");
  EXPECT_TRUE(harness::files_below(dir_ / "work").empty()) << "the work folder is removed afterwards";
}

TEST_F(SeriesModuleRun, sees_series_json_with_count_geometry_and_files_in_stack_order) {
  const auto script = dir_ / "dump.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\ncp \"$2\" " << (dir_ / "seen.json").string() << "\nls \"$1\" > " << (dir_ / "seen.txt").string()
        << "\necho '{\"findings\": []}' > \"$3\"\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto made = SeriesModule::make(module({script.string()}), processing_, dir_ / "work");
  ASSERT_TRUE(made.ok()) << made.error().describe();
  const SeriesModuleInput input = series_of(2);
  ASSERT_TRUE(made->run(input).ok());
  std::ifstream seen(dir_ / "seen.json");
  const std::string json((std::istreambuf_iterator<char>(seen)), std::istreambuf_iterator<char>());
  const nlohmann::json settings = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(settings.is_object()) << json;
  EXPECT_EQ(settings["count"], 2) << json;
  EXPECT_EQ(settings["order"], "slice_position") << json;
  EXPECT_EQ(settings["series_instance_uid"], "1.2.3.4") << json;
  ASSERT_EQ(settings["instances"].size(), 2U) << json;
  EXPECT_EQ(settings["instances"][0]["image_orientation"], nlohmann::json({1, 0, 0, 0, 1, 0})) << json;
  // Slice 2 (z = -1) comes first in the stack.
  EXPECT_EQ(settings["instances"][0]["sop_instance_uid"], input.instances[1].sop_instance_uid) << json;
  EXPECT_EQ(settings["instances"][1]["sop_instance_uid"], input.instances[0].sop_instance_uid) << json;
  EXPECT_EQ(settings["instances"][0]["slice_position"], -1) << json;
  std::ifstream listing(dir_ / "seen.txt");
  const std::string files((std::istreambuf_iterator<char>(listing)), std::istreambuf_iterator<char>());
  EXPECT_EQ(files, "0001.dcm\n0002.dcm\n");
}

TEST_F(SeriesModuleRun, a_failing_or_silent_module_is_external_failed_with_its_stderr) {
  const auto script = dir_ / "fail.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\necho 'no lungs in this series' >&2\nexit 3\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto failing = SeriesModule::make(module({script.string()}), processing_, dir_ / "work");
  ASSERT_TRUE(failing.ok());
  auto ran = failing->run(series_of(1));
  ASSERT_FALSE(ran.ok());
  EXPECT_EQ(ran.error().code, "external_failed");
  EXPECT_NE(ran.error().message.find("no lungs in this series"), std::string::npos) << ran.error().message;

  auto silent = SeriesModule::make(module({"/bin/true"}), processing_, dir_ / "work");
  ASSERT_TRUE(silent.ok());
  auto nothing = silent->run(series_of(1));
  ASSERT_FALSE(nothing.ok());
  EXPECT_NE(nothing.error().message.find("no result.json"), std::string::npos);
  EXPECT_EQ(SeriesModule::make(module({"relative/module"}), processing_, dir_.path()).error().code, "invalid_config");
}

}  // namespace
}  // namespace creni::process
