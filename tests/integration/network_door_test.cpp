// The network door end to end, against the built binary and DCMTK's own storescu/echoscu: every acknowledged
// image is processed exactly like a dropped file, and leaves the same traces in INPUT.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// `count` images of one new study written into `folder` as 0.dcm, 1.dcm, ...; fewer when one cannot be written.
std::vector<std::filesystem::path> images_of_one_study(const std::filesystem::path& folder, int count) {
  std::vector<std::filesystem::path> files;
  ImageSpec spec;
  spec.study_instance_uid = fresh_uid();
  for (int i = 0; i < count; ++i) {
    spec.sop_instance_uid = fresh_uid();
    const auto file = folder / (std::to_string(i) + ".dcm");
    if (!write_image(spec, file).ok()) break;
    files.push_back(file);
  }
  return files;
}

harness::CommandResult storescu(const NodeUnderTest& node, const std::string& calling_ae,
                                const std::vector<std::filesystem::path>& files, const std::string& called_ae = "CRENI",
                                const std::string& proposal = "-xe") {
  // -R: propose only the files' own SOP classes; `proposal` puts a transfer syntax first (files go out as they are).
  std::vector<std::string> argv = {harness::find_program("storescu"), "-v", "-R", proposal, "-aet", calling_ae, "-aec",
                                   called_ae, "127.0.0.1", std::to_string(node.port())};
  for (const auto& file : files) argv.push_back(file.string());
  return harness::run_command(argv, 60s);
}

TEST(NetworkDoor, echoscu_gets_an_answer) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto echo = harness::run_command(
      {harness::find_program("echoscu"), "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1", std::to_string(node.port())});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

TEST(NetworkDoor, images_of_every_transfer_syntax_sent_with_storescu_are_processed_into_output) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  std::vector<std::filesystem::path> files;
  std::set<std::string> sent;
  for (const auto& syntax : network_transfer_syntaxes()) {
    ImageSpec spec;
    spec.transfer_syntax = syntax.uid;
    if (!syntax.supports_16_bit) {
      spec.bits_allocated = 8;
      spec.bits_stored = 8;
      spec.window = std::make_pair(128.0, 256.0);
    }
    spec.sop_instance_uid = fresh_uid();
    files.push_back(staging / (syntax.name + ".dcm"));
    ASSERT_TRUE(write_image(spec, files.back()).ok()) << syntax.name;
    sent.insert(spec.sop_instance_uid);
    const auto result = storescu(node, "GATEWAY_1", {files.back()}, "CRENI", storescu_proposal_for(syntax.uid));
    ASSERT_EQ(result.exit_code, 0) << syntax.name << ": " << result.err << node.log();
  }
  ASSERT_TRUE(node.wait_for_state("written", static_cast<long>(files.size()), 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();

  const auto outputs = node.outputs();
  ASSERT_EQ(outputs.size(), files.size());
  for (const auto& output : outputs) {
    EXPECT_EQ(output.parent_path().parent_path(), node.output() / "gateway_1");
    EXPECT_EQ(tag_of(output, DCM_BurnedInAnnotation), "YES");
  }
  // Both doors leave the same traces: INPUT/gateway_1/<StudyUID>/<SOPUID> and a row in INPUT's image.db.
  std::set<std::string> mirrored;
  for (const auto& file : harness::files_below(node.input() / "gateway_1")) {
    // image.db and, while a batch of index rows is being committed, its rollback journal.
    if (file.filename().string().rfind("image.db", 0) != 0) mirrored.insert(file.filename().string());
  }
  EXPECT_EQ(mirrored, sent);
  // The INPUT index is written in batches just after the results: wait (bounded) for its rows.
  const auto index_rows = [&] {
    return harness::run_command(
        {"sqlite3", (node.input() / "gateway_1" / "image.db").string(), "SELECT SOPInstanceUID FROM image"}).out;
  };
  ASSERT_TRUE(harness::wait_until([&] {
    const std::string rows = index_rows();
    return static_cast<std::size_t>(std::count(rows.begin(), rows.end(), '\n')) >= sent.size();
  }, 10s));
  const std::string rows = index_rows();
  for (const auto& uid : sent) EXPECT_NE(rows.find(uid), std::string::npos) << rows;
  // The spool keeps nothing once the journal points to INPUT.
  EXPECT_TRUE(harness::spooled_files_below(node.state() / "spool").empty());
}

// The worker links each SCP arrival into INPUT/gateway_<id>/<StudyUID>/<SOPUID>; the folder door must know that
// link as the node's own before it can appear, or it hashes the image again and records a duplicate of every one
// (which it did for most of them while the pipeline told it only once the result was recorded).
TEST(NetworkDoor, the_folder_door_never_records_the_nodes_own_copy_of_an_scp_arrival_again) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const std::vector<std::filesystem::path> files = images_of_one_study(staging.path(), 20);
  ASSERT_EQ(files.size(), 20u);
  ASSERT_EQ(storescu(node, "GATEWAY_1", files).exit_code, 0) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", static_cast<long>(files.size()), 60s)) << node.log();
  // Every mirror is in INPUT's index by now, long after the folder door's quiet window for a new link.
  const auto index_rows = [&] {
    const std::string rows = harness::run_command(
        {"sqlite3", (node.input() / "gateway_1" / "image.db").string(), "SELECT count(*) FROM image"}).out;
    return rows.empty() ? 0L : std::stol(rows);
  };
  ASSERT_TRUE(harness::wait_until([&] { return index_rows() >= static_cast<long>(files.size()); }, 20s));
  std::this_thread::sleep_for(200ms);  // several rounds of the folder door after the last link
  const std::string log = node.log();
  std::size_t recorded_again = 0;
  for (auto at = log.find("already known"); at != std::string::npos; at = log.find("already known", at + 1)) {
    ++recorded_again;
  }
  EXPECT_EQ(recorded_again, 0u) << log;
  EXPECT_EQ(node.count_in_state("written"), static_cast<long>(files.size()));
}

TEST(NetworkDoor, the_same_instance_sent_twice_is_acknowledged_and_processed_once) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  ASSERT_EQ(storescu(node, "GATEWAY_2", {staging / "one.dcm"}).exit_code, 0);
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();
  ASSERT_EQ(storescu(node, "GATEWAY_2", {staging / "one.dcm"}).exit_code, 0);
  std::this_thread::sleep_for(1s);  // give a wrong second job the chance to show up
  EXPECT_EQ(node.count_in_state("written"), 1);
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST(NetworkDoor, folder_and_network_arrivals_of_one_instance_give_one_result) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  ImageSpec spec;
  spec.study_instance_uid = fresh_uid();
  spec.sop_instance_uid = fresh_uid();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(spec, staging / "one.dcm").ok());
  ASSERT_EQ(storescu(node, "GATEWAY_1", {staging / "one.dcm"}).exit_code, 0);
  const auto dropped = node.input() / "gateway_1" / "elsewhere" / spec.sop_instance_uid;
  std::filesystem::create_directories(dropped.parent_path());
  std::filesystem::copy_file(staging / "one.dcm", staging / "copy.part");
  std::filesystem::rename(staging / "copy.part", dropped);
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("already known: " + dropped.string()) != std::string::npos; }, 20s))
      << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST(NetworkDoor, status_shows_the_running_node_its_port_and_what_it_received) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "a.dcm").ok());
  ImageSpec other;
  ASSERT_TRUE(write_image(other, staging / "b.dcm").ok());
  ASSERT_EQ(storescu(node, "GATEWAY_1", {staging / "a.dcm", staging / "b.dcm"}).exit_code, 0);
  const std::string port = "\"scp_port\":" + std::to_string(node.port());
  ASSERT_TRUE(harness::wait_until([&] {
    const std::string status = node.status_json();
    return status.find("\"images_received\":2") != std::string::npos && status.find(port) != std::string::npos &&
           status.find("\"images_written\":2") != std::string::npos;
  }, 20s)) << node.status_json();
  EXPECT_NE(node.status_json().find("\"active_associations\":0"), std::string::npos);
  EXPECT_EQ(node.stop(), 0);
  EXPECT_NE(node.status_json().find("\"node\":null"), std::string::npos) << node.status_json();
}

TEST(NetworkDoor, below_the_free_space_watermark_c_stores_get_0xa700_and_the_folder_door_waits) {
  NodeUnderTest::Settings settings;
  settings.node = "min_free_mb = 1000000000";  // more than any disk here: the node is always "low"
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto sent = storescu(node, "GATEWAY_1", {staging / "one.dcm"});
  EXPECT_NE((sent.out + sent.err).find("Refused: OutOfResources"), std::string::npos) << sent.out << sent.err;
  std::filesystem::create_directories(node.input() / "gateway_1");
  std::filesystem::copy_file(staging / "one.dcm", node.input() / "gateway_1" / "dropped");
  std::this_thread::sleep_for(1500ms);  // several hand-over rounds of the folder door
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("written"), 0) << node.status_json();
  EXPECT_TRUE(harness::spooled_files_below(node.state() / "spool").empty());
}

TEST(NetworkDoor, a_sop_instance_uid_that_is_a_path_is_refused_and_nothing_is_written_outside_the_nodes_folders) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ImageSpec spec;
  spec.sop_instance_uid = "../../creni-escape";
  ASSERT_TRUE(write_image(spec, staging / "evil.dcm").ok());
  const auto sent = storescu(node, "GATEWAY_1", {staging / "evil.dcm"});
  EXPECT_NE((sent.out + sent.err).find("CannotUnderstand"), std::string::npos) << sent.out << sent.err;
  std::this_thread::sleep_for(1s);
  for (const auto& root : {node.input(), node.output(), node.state(), node.state().parent_path()}) {
    for (const auto& file : harness::files_below(root)) {
      EXPECT_EQ(file.string().find("creni-escape"), std::string::npos) << file;
    }
  }
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("written") + node.count_in_state("rejected"), 0);
}

TEST(NetworkDoor, a_kill_9_right_after_a_batch_was_acknowledged_loses_none_of_it) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const std::vector<std::filesystem::path> files = images_of_one_study(staging.path(), 20);
  ASSERT_EQ(files.size(), 20u);
  ASSERT_EQ(storescu(node, "GATEWAY_1", files).exit_code, 0);
  node.kill_hard();  // every C-STORE above was answered success: each must survive
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 20, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 20u);
}

TEST(NetworkDoor, an_unknown_calling_ae_title_is_rejected_when_no_default_gateway_is_configured) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto result = storescu(node, "STRANGER", {staging / "one.dcm"});
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE((result.out + result.err).find("Calling AE Title Not Recognized"), std::string::npos) << result.err;
  EXPECT_TRUE(node.outputs().empty());
}

TEST(NetworkDoor, a_wrong_called_ae_title_is_rejected) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto result = storescu(node, "GATEWAY_1", {staging / "one.dcm"}, "NOT_US");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE((result.out + result.err).find("Called AE Title Not Recognized"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace creni::testing
