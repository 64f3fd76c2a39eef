// The series report: one Comprehensive SR that DCMTK's own reader and dicom3tools' validator accept, carrying
// the findings, the algorithm and every instance used.
#include "creni/process/series_report.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <gtest/gtest.h>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "harness.hpp"

namespace creni::process {
namespace {

constexpr const char* kCtImage = "1.2.840.10008.5.1.4.1.1.2";

SeriesReportContent three_slices() {
  SeriesReportContent content;
  content.header = {{"PatientName", "Doe^Jane"}, {"PatientID", "P-17"}, {"PatientSex", "F"},
                    {"StudyDate", "20240131"}, {"AccessionNumber", "ACC1"}, {"Unknown", "ignored"}};
  content.study_instance_uid = "1.2.826.0.1.3680043.2.1125.1";
  content.series_instance_uid = "2.25.1001";
  content.sop_instance_uid = "2.25.1002";
  content.referenced_series_instance_uid = "1.2.826.0.1.3680043.2.1125.2";
  content.series_description = "ScreenedByAI series report";
  content.series_number = 9001;
  AlgorithmIdentity algorithm;
  algorithm.step = "external";
  algorithm.name = "slice-stats";
  algorithm.version = "1.0";
  algorithm.model_sha256 = "ab12";
  content.algorithms = {algorithm};
  for (int i = 1; i <= 3; ++i) content.instances.push_back({kCtImage, "1.2.826.0.1.3680043.2.1125.3." + std::to_string(i)});
  content.findings = {SeriesFinding{"slices", 1.0, {}, {}},
                      SeriesFinding{"bright spot", 0.75, {content.instances[1].sop_instance_uid}, {12.5, 40.0}}};
  return content;
}

class SeriesReport : public ::testing::Test {
 protected:
  dicom::DcmtkRuntime runtime_;
  harness::TempDir dir_{"creni-series-report"};
};

TEST_F(SeriesReport, is_a_valid_comprehensive_sr_with_findings_algorithm_and_every_instance) {
  const auto file = dir_ / "sr.dcm";
  ASSERT_TRUE(write_series_report(three_slices(), file).ok());

  auto loaded = dicom::Instance::load(file);
  ASSERT_TRUE(loaded.ok()) << loaded.error().describe();
  EXPECT_EQ(loaded->identity().sop_class_uid, "1.2.840.10008.5.1.4.1.1.88.33");  // Comprehensive SR
  EXPECT_EQ(loaded->identity().sop_instance_uid, "2.25.1002");
  EXPECT_EQ(loaded->identity().study_instance_uid, "1.2.826.0.1.3680043.2.1125.1");
  EXPECT_EQ(loaded->string_of(DCM_PatientID), "P-17");
  EXPECT_EQ(loaded->string_of(DCM_Modality), "SR");
  EXPECT_EQ(loaded->string_of(DCM_CompletionFlag), "COMPLETE");

  const auto xml = harness::run_command({harness::find_program("dsr2xml"), file.string()});
  ASSERT_EQ(xml.exit_code, 0) << xml.err;
  for (const char* expected : {"slice-stats", "bright spot", "0.75", "ab12", "Diagnostic imaging report",
                               "1.2.826.0.1.3680043.2.1125.3.3", "<scoord", "12.5"}) {
    EXPECT_NE(xml.out.find(expected), std::string::npos) << expected << " missing in\n" << xml.out;
  }

  // dciodvfy prints "Error" for every violation of the IOD (warnings are allowed).
  const auto checked = harness::run_command({harness::find_program("dciodvfy"), file.string()});
  EXPECT_EQ(checked.err.find("Error"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("ComprehensiveSR"), std::string::npos) << checked.err;
}

TEST_F(SeriesReport, lists_every_instance_as_evidence) {
  const auto file = dir_ / "sr.dcm";
  ASSERT_TRUE(write_series_report(three_slices(), file).ok());
  const auto dump = harness::run_command({harness::find_program("dcmdump"), "--search", "ReferencedSOPInstanceUID",
                                          file.string()});
  for (int i = 1; i <= 3; ++i) {
    EXPECT_NE(dump.out.find("1.2.826.0.1.3680043.2.1125.3." + std::to_string(i)), std::string::npos) << dump.out;
  }
}

TEST_F(SeriesReport, refuses_a_finding_on_an_instance_it_does_not_list) {
  auto content = three_slices();
  content.findings[1].instances = {"1.2.3.4.5"};
  const Status written = write_series_report(content, dir_ / "sr.dcm");
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, "invalid_report");
  EXPECT_FALSE(std::filesystem::exists(dir_ / "sr.dcm"));
}

TEST_F(SeriesReport, refuses_a_score_outside_0_to_1_and_an_invalid_uid) {
  auto content = three_slices();
  content.findings[0].score = 1.5;
  EXPECT_EQ(write_series_report(content, dir_ / "a.dcm").error().code, "invalid_report");
  content = three_slices();
  content.sop_instance_uid = "1.02.3";
  EXPECT_EQ(write_series_report(content, dir_ / "b.dcm").error().code, "invalid_report");
}

}  // namespace
}  // namespace creni::process
