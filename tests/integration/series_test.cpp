// Series end to end, through the built binary: both doors feed one series state, the completion signals, a restart
// half way, late instances under both policies, and the series' Structured Report validated and forwarded once.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "creni/catalog/catalog.hpp"
#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "pacs_peers.hpp"
#include "series_fixture.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

const std::string kModule = std::string(CRENI_SOURCE_DIR) + "/examples/series-module/slice_stats.py";

// [series] with the example module, as a newcomer switches it on, plus `extra` keys.
NodeUnderTest::Settings series_settings(const std::string& extra, const std::string& gateway_1 = {}) {
  NodeUnderTest::Settings settings;
  settings.gateway_1 = gateway_1;
  settings.tables = "[series]\n" + extra + "\n[series.external]\ncommand = [\"/usr/bin/python3\", \"" + kModule + "\"]\n";
  return settings;
}

TEST(SeriesEndToEnd, one_series_in_one_association_completes_on_release_with_a_valid_report) {
  NodeUnderTest node(series_settings("idle = 120\nmax_wait = 300\ncomplete_on_release = true"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.send(node, 0, 3);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.received, 3);
  EXPECT_EQ(run.completed_by, "release");
  EXPECT_NE(run.summary.find("slices: 3"), std::string::npos) << run.summary;
  ASSERT_TRUE(std::filesystem::exists(run.result)) << run.result;

  const std::string xml = report_xml(run.result);
  EXPECT_NE(xml.find("slices: 3"), std::string::npos) << xml;
  EXPECT_NE(xml.find("mean intensity"), std::string::npos) << xml;
  EXPECT_NE(xml.find("slice_stats"), std::string::npos) << xml;  // the algorithm's name
  // Every instance used is referenced by its result, which is what lies in OUTPUT (and at the PACS).
  std::set<std::string> results;
  for (const auto& output : node.outputs()) {
    if (output != run.result) results.insert(tag_of(output, DCM_SOPInstanceUID));
  }
  ASSERT_EQ(results.size(), 3U);
  for (const auto& uid : results) EXPECT_GE(occurrences(xml, uid), 2U) << uid << " (evidence and content)";
  EXPECT_EQ(tag_of(run.result, DCM_StudyInstanceUID), tag_of(*node.outputs().begin(), DCM_StudyInstanceUID));

  const auto checked = harness::run_command({harness::find_program("dciodvfy"), run.result});
  EXPECT_EQ(checked.err.find("Error"), std::string::npos) << checked.err;
  EXPECT_EQ(runs_of(node, series.uid()).size(), 1U);

  // Listed in OUTPUT's image.db like every result, with its file.
  const auto indexed = harness::run_command(
      {harness::find_program("sqlite3"), (node.output() / "gateway_1" / "image.db").string(),
       "SELECT PrivateCreator FROM image WHERE SOPInstanceUID = '" + tag_of(run.result, DCM_SOPInstanceUID) + "'"});
  EXPECT_EQ(indexed.out, run.result + "\n") << indexed.err;
}

TEST(SeriesEndToEnd, the_same_series_over_three_associations_with_gaps_is_one_run_completed_when_idle) {
  NodeUnderTest node(series_settings("idle = 4\nmax_wait = 300"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  for (int association = 0; association < 3; ++association) {
    series.send(node, association, association + 1);
    ASSERT_TRUE(wait_for_received(node, series, association + 1)) << node.status_json();
    EXPECT_EQ(runs_of(node, series.uid()).front().state, "open") << "completed during a gap shorter than idle";
    std::this_thread::sleep_for(1s);  // the gap between the sender's associations (shorter than idle)
  }
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.received, 3);
  EXPECT_EQ(run.completed_by, "idle");
  EXPECT_EQ(runs_of(node, series.uid()).size(), 1U);
}

TEST(SeriesEndToEnd, a_known_expected_count_completes_the_series_without_waiting_for_idle) {
  NodeUnderTest node(series_settings("idle = 120\nmax_wait = 300"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series(3);
  series.drop(node, 0, 2);
  ASSERT_TRUE(wait_for_received(node, series, 2)) << node.status_json();
  EXPECT_EQ(runs_of(node, series.uid())[0].state, "open");
  EXPECT_EQ(runs_of(node, series.uid())[0].expected, 3);
  series.drop(node, 2, 3);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported", 30s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.completed_by, "expected_count");
  EXPECT_EQ(run.received, 3);
}

TEST(SeriesEndToEnd, the_gateways_image_db_gives_the_expected_count) {
  NodeUnderTest node(series_settings("idle = 120\nmax_wait = 300"));
  Series series;  // no count in the data sets
  harness::TempDir staging("creni-series-gateway");
  std::vector<std::filesystem::path> files;
  std::filesystem::create_directories(node.input() / "gateway_1");
  auto index = catalog::Catalog::open_for_writing(node.input() / "gateway_1" / "image.db");
  ASSERT_TRUE(index.ok()) << index.error().describe();
  for (int i = 0; i < 3; ++i) {
    files.push_back(series.write(staging.path(), i));
    auto record = catalog::record_from_file(files.back());
    ASSERT_TRUE(record.ok());
    record->series.emplace_back("NumberOfSeriesRelatedInstances", "3");
    ASSERT_TRUE(index.value()->upsert(record.value()).ok());
  }
  ASSERT_TRUE(node.start()) << node.log();
  const auto folder = node.input() / "gateway_1" / series.study_uid();
  std::filesystem::create_directories(folder);
  for (const auto& file : files) std::filesystem::rename(file, folder / file.filename());
  const SeriesRunView run = wait_for_run(node, series, 1, "reported", 30s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.completed_by, "expected_count");
  EXPECT_EQ(run.expected, 3);
}

TEST(SeriesEndToEnd, idle_completes_a_series_of_unknown_size_from_the_folder_door) {
  NodeUnderTest node(series_settings("idle = 1\nmax_wait = 300"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.completed_by, "idle");
  EXPECT_EQ(run.received, 2);
  EXPECT_EQ(run.expected, 0);
}

TEST(SeriesEndToEnd, max_wait_completes_a_series_that_never_pauses_for_idle) {
  NodeUnderTest node(series_settings("idle = 2\nmax_wait = 3"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  // One slice every 0.5 s (never idle for 2 s) until the run is no longer open.
  for (int i = 0; i < 20; ++i) {
    series.drop(node, i, i + 1);
    const auto runs = runs_of(node, series.uid());
    if (!runs.empty() && runs[0].state != "open") break;
    std::this_thread::sleep_for(500ms);  // the sender's pace
  }
  const SeriesRunView run = wait_for_run(node, series, 1, "reported", 30s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.completed_by, "max_wait");
  EXPECT_GE(run.received, 3);
}

TEST(SeriesEndToEnd, a_restart_half_way_continues_the_same_run) {
  NodeUnderTest node(series_settings("idle = 120\nmax_wait = 300"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series(4);
  series.send(node, 0, 2);
  ASSERT_TRUE(wait_for_received(node, series, 2)) << node.status_json();
  ASSERT_EQ(node.stop(), 0);
  ASSERT_TRUE(node.start()) << node.log();
  EXPECT_EQ(runs_of(node, series.uid()).at(0).state, "open");
  series.send(node, 2, 4);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported", 30s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.received, 4);
  EXPECT_EQ(run.completed_by, "expected_count");
  EXPECT_EQ(runs_of(node, series.uid()).size(), 1U);
}

TEST(SeriesEndToEnd, after_a_restart_the_idle_timer_runs_from_the_stored_time_of_the_last_instance) {
  NodeUnderTest node(series_settings("idle = 4\nmax_wait = 300"));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  ASSERT_TRUE(wait_for_received(node, series, 2)) << node.status_json();
  ASSERT_EQ(node.stop(), 0);
  EXPECT_EQ(runs_of(node, series.uid()).at(0).state, "open");
  std::this_thread::sleep_for(5s);  // the node is down for longer than idle
  const auto restarted = std::chrono::steady_clock::now();
  ASSERT_TRUE(node.start()) << node.log();
  const SeriesRunView run = wait_for_run(node, series, 1, "reported", 30s);
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_EQ(run.completed_by, "idle");
  EXPECT_LT(std::chrono::steady_clock::now() - restarted, 3500ms) << "idle counted again from the restart";
}

TEST(SeriesEndToEnd, a_node_killed_during_the_series_job_reports_the_run_once_after_restart) {
  harness::TempDir scratch("creni-series-crash");
  const auto started = scratch / "started";
  const auto module = scratch / "slow_module.sh";
  {
    // The first run marks that it started and then takes long; a later one answers at once.
    std::ofstream out(module);
    out << "#!/bin/sh\nif [ ! -e " << started.string() << " ]; then touch " << started.string()
        << "; sleep 30; fi\necho '{\"findings\": [{\"label\": \"done\", \"score\": 1}]}' > \"$3\"\n";
  }
  std::filesystem::permissions(module, std::filesystem::perms::owner_all);
  NodeUnderTest::Settings settings;
  settings.tables = "[series]\nidle = 1\nmax_wait = 300\n[series.external]\ncommand = [\"" + module.string() + "\"]\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(started); }, 30s)) << node.log();
  node.kill_hard();
  ASSERT_TRUE(node.start()) << node.log();
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  EXPECT_NE(run.summary.find("done"), std::string::npos);
  EXPECT_NE(node.status_json().find("\"attempts\":2"), std::string::npos) << "the interrupted attempt stays counted";
  std::size_t reports = 0;
  for (const auto& output : node.outputs()) reports += tag_of(output, DCM_Modality) == "SR" ? 1 : 0;
  EXPECT_EQ(reports, 1U);
  EXPECT_TRUE(harness::files_below(node.state() / "series-work").empty()) << "no work folder left behind";
}

TEST(SeriesEndToEnd, a_late_instance_under_reopen_gets_a_new_run_with_everything_so_far) {
  NodeUnderTest node(series_settings("idle = 1\nmax_wait = 300\nlate = \"reopen\""));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  const SeriesRunView first = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(first.run, 1) << node.status_json() << node.log();
  series.drop(node, 2, 3);
  const SeriesRunView second = wait_for_run(node, series, 2, "reported");
  ASSERT_EQ(second.run, 2) << node.status_json() << node.log();
  EXPECT_EQ(second.received, 3);
  EXPECT_NE(second.result, first.result) << "each run has its own report";
  EXPECT_TRUE(std::filesystem::exists(first.result));
  EXPECT_NE(report_xml(second.result).find("slices: 3"), std::string::npos);
}

TEST(SeriesEndToEnd, a_late_instance_under_separate_gets_a_run_of_its_own) {
  NodeUnderTest node(series_settings("idle = 1\nmax_wait = 300", "[gateway.series]\nlate = \"separate\""));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  ASSERT_EQ(wait_for_run(node, series, 1, "reported").run, 1) << node.status_json() << node.log();
  series.drop(node, 2, 3);
  const SeriesRunView second = wait_for_run(node, series, 2, "reported");
  ASSERT_EQ(second.run, 2) << node.status_json() << node.log();
  EXPECT_EQ(second.received, 1);
  EXPECT_NE(report_xml(second.result).find("slices: 1"), std::string::npos);
}

TEST(SeriesEndToEnd, with_output_study_original_the_results_and_the_report_are_new_series_of_the_original_study) {
  NodeUnderTest node(series_settings("idle = 1\nmax_wait = 300", "[gateway.output]\nstudy = \"original\""));
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.drop(node, 0, 2);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  const auto outputs = node.outputs();
  ASSERT_EQ(outputs.size(), 3U);
  std::set<std::string> output_series;
  for (const auto& output : outputs) {
    EXPECT_EQ(tag_of(output, DCM_StudyInstanceUID), series.study_uid()) << output;
    EXPECT_EQ(tag_of(output, DCM_StudyDescription), "CT HEAD") << "a study-level value stays as the study has it";
    output_series.insert(tag_of(output, DCM_SeriesInstanceUID));
  }
  EXPECT_EQ(output_series.size(), 2U) << "the results' series and the report's series";
  EXPECT_EQ(output_series.count(series.uid()), 0U) << "never the original series";
}

TEST(SeriesEndToEnd, the_report_reaches_orthanc_once_with_its_references_to_the_forwarded_images) {
  harness::TempDir orthanc_dir;
  peers::Orthanc orthanc(orthanc_dir.path(), harness::free_port(), harness::free_port());
  ASSERT_TRUE(orthanc.wait_until_ready()) << orthanc.log();
  NodeUnderTest::Settings settings = series_settings("idle = 1\nmax_wait = 300", "destinations = [\"pacs\"]");
  settings.tables += "[[destination]]\nname = \"pacs\"\nhost = \"127.0.0.1\"\nport = " +
                     std::to_string(orthanc.dicom_port()) + "\nae_title = \"ORTHANC\"\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  Series series;
  series.send(node, 0, 3);
  const SeriesRunView run = wait_for_run(node, series, 1, "reported");
  ASSERT_EQ(run.run, 1) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("done", 4, 60s)) << node.status_json() << node.log();

  const std::string report_uid = tag_of(run.result, DCM_SOPInstanceUID);
  std::string report_id;
  std::set<std::string> at_pacs;
  for (const auto& id : orthanc.instance_ids()) {
    const std::string uid = orthanc.sop_instance_uid_of(id);
    at_pacs.insert(uid);
    if (uid == report_uid) report_id = id;
  }
  ASSERT_FALSE(report_id.empty()) << "the report is not at the PACS";
  EXPECT_EQ(at_pacs.size(), 4U);
  const std::string tags = orthanc.get("/instances/" + report_id + "/simplified-tags");
  EXPECT_NE(tags.find("\"Modality\" : \"SR\""), std::string::npos) << tags;
  EXPECT_NE(tags.find("CurrentRequestedProcedureEvidenceSequence"), std::string::npos) << tags;
  for (const auto& uid : at_pacs) {
    if (uid != report_uid) {
      EXPECT_NE(tags.find(uid), std::string::npos) << "reference to " << uid << " missing";
    }
  }
  // The report lives in the study of the images it describes, at the PACS too.
  const std::string study = orthanc.get("/instances/" + report_id + "/study");
  EXPECT_NE(study.find(tag_of(*node.outputs().begin(), DCM_StudyInstanceUID)), std::string::npos) << study;
  std::this_thread::sleep_for(2s);  // several forwarder and series cycles: a second send would show
  EXPECT_EQ(orthanc.receptions().size(), 4U) << "something was sent more than once";
}

}  // namespace
}  // namespace creni::testing
