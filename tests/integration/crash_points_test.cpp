// Crash at named points (../shared/RELIABILITY.md, C1), deterministically: the node kills itself with SIGKILL at
// one point (CRENI_CRASH_AT, once, see creni/common/crash_point.hpp), then starts again over what it left. After
// every point, each image the sender saw acknowledged is processed once, nothing unacknowledged is half-kept, and
// a forward whose outcome the crash hid is never sent again.
#include <gtest/gtest.h>

#include <memory>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "pacs_peers.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// Runs the node under `env` so that it crashes once at `point`; later starts use the same settings and run on.
NodeUnderTest::Settings crashing_at(const std::string& point, const std::filesystem::path& marker,
                                    NodeUnderTest::Settings settings = {}) {
  settings.launcher = {"env", "CRENI_CRASH_AT=" + point, "CRENI_CRASH_MARKER=" + marker.string()};
  return settings;
}

harness::CommandResult send(const NodeUnderTest& node, const std::filesystem::path& file) {
  return harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1",
                               std::to_string(node.port()), file.string()},
                              60s);
}

NodeUnderTest::Settings forwarding_to(int port) {
  NodeUnderTest::Settings settings;
  settings.gateway_1 = "destinations = [\"pacs\"]";
  settings.tables = "[[destination]]\nname = \"pacs\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                    "\nae_title = \"PACS\"\nconnect_timeout_s = 3\nacse_timeout_s = 5\ndimse_timeout_s = 10\n";
  return settings;
}

void drop_one(const std::filesystem::path& gateway_folder) {
  std::filesystem::create_directories(gateway_folder);
  ASSERT_TRUE(write_image(ImageSpec{}, gateway_folder / "one.part").ok());
  std::filesystem::rename(gateway_folder / "one.part", gateway_folder / "one");
}

class CrashPoint : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(write_image(ImageSpec{}, image_).ok()); }

  // Starts `node` (set to crash at a point of the node process), drops one file and waits for the crash.
  void drop_one_and_crash(NodeUnderTest& node) {
    ASSERT_TRUE(node.start()) << node.log();
    drop_one(node.input() / "gateway_1");
    ASSERT_TRUE(node.exited_within(60s)) << node.log();
    ASSERT_TRUE(std::filesystem::exists(marker_)) << "the node never reached the crash point";
  }

  harness::TempDir scratch_;
  std::filesystem::path marker_ = scratch_ / "crashed";
  std::filesystem::path image_ = scratch_ / "image.dcm";
};

// The image and its arrival record are durable, the journal has no row yet: the start records it from the spool
// file (it may have been acknowledged, as after a power cut that took an unsynced journal commit), so it is
// processed once, and the sender's resend is a duplicate.
TEST_F(CrashPoint, spool_file_durable_but_not_recorded_is_recorded_at_start_and_the_resend_is_a_duplicate) {
  NodeUnderTest node(crashing_at("scp_spool_published", marker_));
  ASSERT_TRUE(node.start()) << node.log();
  const auto unanswered = send(node, image_);
  EXPECT_NE(unanswered.exit_code, 0) << "acknowledged although the node died before recording it";
  ASSERT_TRUE(node.exited_within(20s));
  ASSERT_TRUE(std::filesystem::exists(marker_));

  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_NE(node.log().find("recorded from its spool file"), std::string::npos) << node.log();
  const auto resent = send(node, image_);
  ASSERT_EQ(resent.exit_code, 0) << resent.err << node.log();
  EXPECT_EQ(node.count_in_state("written"), 1) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 1u);
}

// A crash after the record was written but before the sync: the process died, its page cache did not, so the file
// is whole and recorded at start like the one above; what a power cut does to such a file is the power cut test's.
TEST_F(CrashPoint, spool_record_written_but_not_synced_is_recorded_once_at_start) {
  NodeUnderTest node(crashing_at("scp_spool_record_written", marker_));
  ASSERT_TRUE(node.start()) << node.log();
  EXPECT_NE(send(node, image_).exit_code, 0);
  ASSERT_TRUE(node.exited_within(20s));
  ASSERT_TRUE(std::filesystem::exists(marker_));
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST_F(CrashPoint, recorded_but_not_answered_is_processed_once_and_the_resend_is_a_duplicate) {
  NodeUnderTest node(crashing_at("scp_arrival_recorded", marker_));
  ASSERT_TRUE(node.start()) << node.log();
  const auto unanswered = send(node, image_);
  EXPECT_NE(unanswered.exit_code, 0);
  ASSERT_TRUE(node.exited_within(20s));

  ASSERT_TRUE(node.start()) << node.log();
  // The journal has the image: it is processed although its sender never heard of it.
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  const auto resent = send(node, image_);
  ASSERT_EQ(resent.exit_code, 0) << resent.err << node.log();
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(node.count_in_state("written"), 1) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 1u);
}

// The one result of a dropped file is on its way to a storescp PACS when the node crashes at `point`; the node
// starts again and settles the forward.
class ForwardCrashPoint : public CrashPoint {
 protected:
  void crash_while_forwarding_then_restart(const std::string& point) {
    ASSERT_TRUE(pacs_.wait_until_listening()) << pacs_.log();
    node_ = std::make_unique<NodeUnderTest>(crashing_at(point, marker_, forwarding_to(pacs_.port())));
    ASSERT_TRUE(node_->start()) << node_->log();
    drop_one(node_->input() / "gateway_1");
    ASSERT_TRUE(node_->exited_within(60s)) << node_->log();
    ASSERT_TRUE(node_->start()) << node_->log();
    ASSERT_TRUE(node_->wait_for_state("forward_unknown", 1, 30s)) << node_->status_json() << node_->log();
    std::this_thread::sleep_for(3s);  // several forwarder poll cycles: time enough for a wrong second send
  }

  harness::TempDir pacs_dir_;
  peers::StoreScp pacs_{pacs_dir_.path(), harness::free_port()};
  std::unique_ptr<NodeUnderTest> node_;
};

TEST_F(ForwardCrashPoint, forwarding_recorded_before_the_association_ends_forward_unknown_and_is_never_sent) {
  crash_while_forwarding_then_restart("forward_claimed");
  EXPECT_EQ(pacs_.store_requests_seen(), 0) << pacs_.log();
  EXPECT_EQ(node_->count_in_state("forward_unknown"), 1);
}

TEST_F(ForwardCrashPoint, an_answer_lost_in_a_crash_ends_forward_unknown_with_one_copy_at_the_pacs) {
  crash_while_forwarding_then_restart("forward_answered");
  EXPECT_EQ(pacs_.store_requests_seen(), 1) << pacs_.log();
  EXPECT_EQ(pacs_.received_files().size(), 1u);
  EXPECT_EQ(node_->count_in_state("forward_unknown"), 1);
}

TEST_F(ForwardCrashPoint, an_outcome_recorded_just_before_a_crash_stays_done_and_is_never_sent_again) {
  ASSERT_TRUE(pacs_.wait_until_listening()) << pacs_.log();
  node_ = std::make_unique<NodeUnderTest>(crashing_at("forward_recorded", marker_, forwarding_to(pacs_.port())));
  ASSERT_TRUE(node_->start()) << node_->log();
  drop_one(node_->input() / "gateway_1");
  ASSERT_TRUE(node_->exited_within(60s)) << node_->log();
  ASSERT_TRUE(std::filesystem::exists(marker_)) << "the node never reached the crash point";
  ASSERT_TRUE(node_->start()) << node_->log();
  ASSERT_TRUE(node_->wait_for_state("done", 1, 30s)) << node_->status_json() << node_->log();
  std::this_thread::sleep_for(3s);  // several forwarder poll cycles: time enough for a wrong second send
  EXPECT_EQ(pacs_.store_requests_seen(), 1) << pacs_.log();
  EXPECT_EQ(node_->count_in_state("done"), 1);
  EXPECT_EQ(node_->count_in_state("forward_unknown"), 0);
}

TEST_F(CrashPoint, a_worker_killed_before_its_rename_leaves_no_temporary_file_and_the_job_completes) {
  NodeUnderTest node(crashing_at("output_written_before_rename", marker_));
  ASSERT_TRUE(node.start()) << node.log();
  drop_one(node.input() / "gateway_1");
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  ASSERT_TRUE(std::filesystem::exists(marker_)) << "the worker never reached the crash point";
  EXPECT_NE(node.log().find("worker failed"), std::string::npos) << node.log();
  // While the node runs on: the dead worker's temporary file is gone, one result is there.
  EXPECT_EQ(temporary_files_below(node.output()), std::vector<std::filesystem::path>{});
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST_F(CrashPoint, the_node_killed_before_it_commits_a_workers_result_leaves_no_temporary_file_and_finishes_the_job) {
  NodeUnderTest node(crashing_at("result_answered_before_commit", marker_));
  ASSERT_NO_FATAL_FAILURE(drop_one_and_crash(node));
  // The worker's result lies next to its final name, unsynced: not a result yet.
  EXPECT_TRUE(node.outputs().empty());

  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(temporary_files_below(node.output()), std::vector<std::filesystem::path>{});
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST_F(CrashPoint, a_result_in_place_but_not_recorded_is_processed_again_into_the_same_single_output) {
  NodeUnderTest node(crashing_at("result_committed_before_recorded", marker_));
  ASSERT_NO_FATAL_FAILURE(drop_one_and_crash(node));
  ASSERT_EQ(node.outputs().size(), 1u) << "the result should be in place before the crash";
  const auto first = node.outputs().front();

  ASSERT_TRUE(node.start()) << node.log();
  // The journal never said `written`: the job runs again and its derived UIDs name the same file.
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  ASSERT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(node.outputs().front(), first);
}

}  // namespace
}  // namespace creni::testing
