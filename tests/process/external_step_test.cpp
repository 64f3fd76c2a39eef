// Step "external": small Python modules (standard library only) written by the tests play well-behaved and
// misbehaving external modules; the step must pass on what a good one returns and reject everything else with
// "external_failed" and the module's stderr tail, and must never put a DICOM string on a command line.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/contained_command.hpp"
#include "creni/process/external_step.hpp"
#include "creni/process/processing_chain.hpp"
#include "dicom_factory.hpp"
#include "process_one.hpp"
#include "harness/harness.hpp"

namespace creni::process {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

// Copies the input to the output unchanged and reports one finding.
constexpr const char* kCopyModule = R"(
import json, shutil, sys
source, target, settings = sys.argv[1:4]
shutil.copyfile(source, target)
result = json.load(open(settings))["result"]
json.dump({"findings": [{"label": "nodule", "score": 0.75}]}, open(result, "w"))
)";

class ExternalStepTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(std::filesystem::exists(kPython)) << kPython << " is needed (scripts/install-deps.sh test)"; }

  std::string module(const std::string& name, const std::string& source) {
    const auto path = temp_.path() / (name + ".py");
    std::ofstream(path) << source;
    return path.string();
  }

  config::InferenceConfig external(const std::string& script) {
    config::InferenceConfig inference;
    inference.external.command = {kPython, script};
    inference.algorithm_name = "copy-module";
    inference.algorithm_version = "0.9";
    return inference;
  }

  static config::ProcessingConfig with_external() {
    config::ProcessingConfig processing;
    processing.steps = {"describe", "external", "burn_in"};
    return processing;
  }

  testing::ImageSpec spec_with_strings() {
    testing::ImageSpec spec;
    spec.patient_name = "SECRET^PATIENTNAME";
    spec.study_description = "SECRETSTUDYDESC";
    spec.series_description = "SECRETSERIESDESC";
    return spec;
  }

  Result<ProcessedFile> process(const config::InferenceConfig& inference, const testing::ImageSpec& spec = {}) {
    return process_one(spec, with_external(), inference, temp_.path(), counter_++);
  }

  dicom::DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-external"};
  int counter_ = 0;
};

TEST_F(ExternalStepTest, a_module_that_returns_the_image_and_findings_passes_them_on) {
  auto outcome = process(external(module("copy", kCopyModule)));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(outcome->processed.findings[0].label, "nodule");
  EXPECT_DOUBLE_EQ(outcome->processed.findings[0].score, 0.75);
  DcmDataset& data = *outcome->saved->getDataset();
  EXPECT_EQ(text_of(data, DCM_ImageComments), "ScreenedByAI copy-module 0.9: nodule 0.75");
  DcmItem* equipment = nullptr;
  ASSERT_TRUE(data.findAndGetSequenceItem(DCM_ContributingEquipmentSequence, equipment, -1).good());
  EXPECT_EQ(text_of(*equipment, DCM_ManufacturerModelName), "copy-module");
  EXPECT_EQ(text_of(*equipment, DCM_SoftwareVersions), "0.9");
  EXPECT_NE(text_of(data, DCM_DerivationDescription).find("describe, external, burn_in; external copy-module 0.9"),
            std::string::npos);
  EXPECT_EQ(text_of(data, DCM_BurnedInAnnotation), "YES");
  EXPECT_EQ(outcome->processed.result.sop_instance_uid, text_of(data, DCM_SOPInstanceUID));
}

TEST_F(ExternalStepTest, the_example_module_in_the_repository_fulfils_the_contract) {
  const std::string example = std::string(CRENI_SOURCE_DIR) + "/examples/external-module/invert_text.py";
  auto outcome = process(external(example));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  ASSERT_EQ(outcome->processed.findings.size(), 1u);
  EXPECT_EQ(outcome->processed.findings[0].label, "example");
}

TEST_F(ExternalStepTest, pixels_changed_by_the_module_reach_the_output) {
  config::InferenceConfig inference = external(std::string(CRENI_SOURCE_DIR) + "/examples/external-module/invert_text.py");
  inference.external.parameters = {{"invert", "yes"}};
  const testing::ImageSpec spec;
  auto outcome = process(inference, spec);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  const Uint16* words = nullptr;
  ASSERT_TRUE(outcome->saved->getDataset()->findAndGetUint16Array(DCM_PixelData, words).good());
  const int row = spec.rows - 2;  // far from the burned-in text in the top-left corner
  const int column = spec.columns - 2;
  EXPECT_EQ(words[row * spec.columns + column], 4095 - testing::default_pixel(spec, 0, row, column, 0));
}

TEST_F(ExternalStepTest, a_module_without_result_json_adds_no_findings) {
  auto outcome = process(external(module("plain", "import shutil, sys\nshutil.copyfile(sys.argv[1], sys.argv[2])\n")));
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_TRUE(outcome->processed.findings.empty());
}

TEST_F(ExternalStepTest, a_non_zero_exit_rejects_with_the_stderr_tail) {
  auto outcome = process(external(module("crash", R"(
import sys
sys.stderr.write("loading weights\nRuntimeError: CUDA device not found\n")
sys.exit(3)
)")));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("exited with status 3"), std::string::npos) << outcome.error().message;
  EXPECT_NE(outcome.error().message.find("loading weights | RuntimeError: CUDA device not found"), std::string::npos)
      << outcome.error().message;
}

TEST_F(ExternalStepTest, a_module_that_runs_past_its_timeout_is_killed_and_rejected) {
  config::InferenceConfig inference = external(module("slow", R"(
import sys, time
sys.stderr.write("thinking\n")
sys.stderr.flush()
time.sleep(60)
)"));
  inference.external.timeout_s = 1;
  const auto start = std::chrono::steady_clock::now();
  auto outcome = process(inference);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("timed out after 1 s; stderr: thinking"), std::string::npos) << outcome.error().message;
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

TEST_F(ExternalStepTest, garbage_output_is_rejected) {
  auto outcome = process(external(module("garbage", R"(
import sys
open(sys.argv[2], "wb").write(b"this is not DICOM at all" * 10)
sys.stderr.write("wrote something\n")
)")));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("output is not valid DICOM"), std::string::npos) << outcome.error().message;
  EXPECT_NE(outcome.error().message.find("wrote something"), std::string::npos) << outcome.error().message;
}

TEST_F(ExternalStepTest, no_output_file_is_rejected) {
  auto outcome = process(external(module("silent", "pass\n")));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("wrote no output file"), std::string::npos) << outcome.error().message;
}

TEST_F(ExternalStepTest, output_of_another_instance_is_rejected) {
  const auto other = temp_.path() / "other.dcm";
  ASSERT_TRUE(testing::write_image(testing::ImageSpec{}, other).ok());  // a fresh SOP Instance UID
  config::InferenceConfig inference = external(module("other", R"(
import json, shutil, sys
shutil.copyfile(json.load(open(sys.argv[3]))["parameters"]["other"], sys.argv[2])
)"));
  inference.external.parameters = {{"other", other.string()}};
  auto outcome = process(inference);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("another instance"), std::string::npos) << outcome.error().message;
}

TEST_F(ExternalStepTest, an_invalid_result_json_is_rejected) {
  auto outcome = process(external(module("badresult", R"(
import json, shutil, sys
shutil.copyfile(sys.argv[1], sys.argv[2])
open(json.load(open(sys.argv[3]))["result"], "w").write('{"findings": [{"label": "nodule", "score": 7}]}')
)")));
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("result.json: findings[0].score must be a number between 0 and 1"),
            std::string::npos)
      << outcome.error().message;
}

TEST_F(ExternalStepTest, a_module_over_its_memory_limit_fails) {
  config::InferenceConfig inference = external(module("hungry", R"(
import shutil, sys
block = bytearray(600 * 1024 * 1024)
shutil.copyfile(sys.argv[1], sys.argv[2])
)"));
  inference.external.memory_mb = 200;
  auto outcome = process(inference);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("MemoryError"), std::string::npos) << outcome.error().message;
}

TEST_F(ExternalStepTest, no_dicom_string_reaches_the_command_line_or_the_environment) {
  const auto dump = temp_.path() / "dump.json";
  config::InferenceConfig inference = external(module("spy", R"(
import json, os, shutil, sys
settings = json.load(open(sys.argv[3]))
record = {"argv": sys.argv, "environ": dict(os.environ), "cwd": os.getcwd(),
          "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
          "settings": open(sys.argv[3]).read()}
json.dump(record, open(settings["parameters"]["dump"], "w"))
shutil.copyfile(sys.argv[1], sys.argv[2])
)"));
  inference.external.parameters = {{"dump", dump.string()}};
  auto outcome = process(inference, spec_with_strings());
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();

  const std::string record = harness::read_file(dump);
  ASSERT_FALSE(record.empty());
  for (const char* secret : {"SECRET", "PATIENTNAME", "DOE", "CT HEAD", "AXIAL"}) {
    EXPECT_EQ(record.find(secret), std::string::npos) << secret << " leaked into: " << record;
  }
  // The input file itself does carry the name: the module gets the image, not its strings on a command line.
  EXPECT_NE(record.find("input.dcm"), std::string::npos);
  // The environment is ours alone: nothing of the test process's environment leaks.
  EXPECT_EQ(record.find("\"USER\""), std::string::npos) << record;
  EXPECT_NE(record.find("\"PATH\": \"/usr/local/bin:/usr/bin:/bin\""), std::string::npos) << record;
  // Descriptors: 0, 1, 2 and the one os.listdir itself opened.
  EXPECT_NE(record.find("\"fds\": [0, 1, 2, 3]"), std::string::npos) << record;
}

TEST_F(ExternalStepTest, the_work_folder_is_removed_and_helpers_left_running_are_killed) {
  const auto dump = temp_.path() / "dump.txt";
  config::InferenceConfig inference = external(module("spawner", R"(
import json, os, shutil, subprocess, sys
helper = subprocess.Popen(["/bin/sleep", "60"])
settings = json.load(open(sys.argv[3]))
open(settings["parameters"]["dump"], "w").write("%d %s" % (helper.pid, os.getcwd()))
shutil.copyfile(sys.argv[1], sys.argv[2])
)"));
  inference.external.parameters = {{"dump", dump.string()}};
  auto outcome = process(inference);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  std::istringstream record(harness::read_file(dump));
  pid_t helper = 0;
  std::string folder;
  record >> helper >> folder;
  ASSERT_GT(helper, 0);
  EXPECT_FALSE(std::filesystem::exists(folder)) << folder;
  // Killed with its process group; its new parent reaps it.
  const bool gone = harness::wait_until(
      [helper] {
        const std::string stat = harness::read_file("/proc/" + std::to_string(helper) + "/stat");
        return stat.empty() || stat.find(") Z ") != std::string::npos;
      },
      std::chrono::seconds(5));
  EXPECT_TRUE(gone) << "helper " << helper << " still runs";
}

TEST_F(ExternalStepTest, refuses_to_build_with_a_relative_or_missing_program) {
  config::InferenceConfig inference;
  inference.external.command = {"python3", "x.py"};
  auto relative = ProcessingChain::build(with_external(), inference);
  ASSERT_FALSE(relative.ok());
  EXPECT_NE(relative.error().message.find("inference.external.command[0]: must be an absolute path"), std::string::npos);
  inference.external.command = {"/nonexistent/module"};
  auto missing = ProcessingChain::build(with_external(), inference);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "invalid_config");
}

TEST(ResultJson, reads_findings_and_refuses_everything_else) {
  auto good = parse_result_json(R"({"findings": [{"label": "nodule", "score": 0.9}, {"label": "mass", "score": 1e-1}],
                                    "extra": {"ignored": [1, 2, null, true]}})");
  ASSERT_TRUE(good.ok()) << good.error().describe();
  ASSERT_EQ(good->size(), 2u);
  EXPECT_EQ((*good)[1].label, "mass");
  EXPECT_DOUBLE_EQ((*good)[1].score, 0.1);
  EXPECT_TRUE(parse_result_json(R"({"findings": []})").ok());
  for (const std::string& bad : std::vector<std::string>{"", "[]", "{}", R"({"findings": {}})", R"({"findings": [{"label": "x"}]})",
                          R"({"findings": [{"label": "", "score": 0.5}]})", R"({"findings": [{"label": "a\\b", "score": 0.5}]})",
                          R"({"findings": [{"label": "x", "score": "0.5"}]})", R"({"findings": [{"label": "x", "score": 0.5}]} x)",
                          R"({"findings": [{"label": "x", "score": 0.5},]})", "{\"findings\": [{\"label\": \"x\u0001\", \"score\": 0.5}]}",
                          "{\"findings\": [], \"deep\": " + std::string(40, '[') + std::string(40, ']') + "}"}) {
    auto parsed = parse_result_json(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().code, "external_failed");
    }
  }
}

TEST(ContainedCommand, an_unstartable_program_is_an_error_not_a_crash) {
  harness::TempDir folder("creni-contained");
  auto outcome = run_contained({"/nonexistent/program"}, {}, folder.path(), CommandLimits{});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "external_failed");
  EXPECT_NE(outcome.error().message.find("No such file"), std::string::npos) << outcome.error().message;
}

TEST(ContainedCommand, reports_a_signal_and_keeps_only_the_tail_of_stderr) {
  harness::TempDir folder("creni-contained");
  CommandLimits limits;
  limits.stderr_tail_bytes = 16;
  auto outcome = run_contained({kPython, "-c", "import os, signal, sys\nsys.stderr.write('x' * 5000 + 'the end')\n"
                                               "sys.stderr.flush()\nos.kill(os.getpid(), signal.SIGTERM)"},
                               {}, folder.path(), limits);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(outcome->end, CommandOutcome::End::signaled);
  EXPECT_EQ(outcome->code, SIGTERM);
  EXPECT_EQ(outcome->stderr_tail, "xxxxxxxxxthe end");
}

}  // namespace
}  // namespace creni::process
