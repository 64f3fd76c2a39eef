// Forwarding end to end, through the built binary: results reach the PACS once, failures are recorded and never
// silently retried, and an attempt whose answer was lost in a crash is never sent again.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "pacs_peers.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

NodeUnderTest::Settings forwarding_to(int port, const std::string& ae_title, int dimse_timeout_s = 10,
                                      const std::string& extra = {}) {
  NodeUnderTest::Settings settings;
  settings.gateway_1 = "destinations = [\"pacs\"]";
  settings.tables = "[[destination]]\nname = \"pacs\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(port) +
                    "\nae_title = \"" + ae_title + "\"\nconnect_timeout_s = 3\nacse_timeout_s = 5\ndimse_timeout_s = " +
                    std::to_string(dimse_timeout_s) + "\n" + extra;
  return settings;
}

TEST(Forwarding, every_result_from_both_doors_reaches_orthanc_once_with_its_derived_uids) {
  harness::TempDir orthanc_dir;
  peers::Orthanc orthanc(orthanc_dir.path(), harness::free_port(), harness::free_port());
  ASSERT_TRUE(orthanc.wait_until_ready()) << orthanc.log();
  NodeUnderTest node(forwarding_to(orthanc.dicom_port(), "ORTHANC"));
  ASSERT_TRUE(node.start()) << node.log();

  drop_images(node.input() / "gateway_1", 3);
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "sent.dcm").ok());
  const auto sent = harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port()), (staging / "sent.dcm").string()});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;

  ASSERT_TRUE(node.wait_for_state("done", 4, 60s)) << node.status_json() << node.log();
  std::set<std::string> results;
  for (const auto& output : node.outputs()) results.insert(tag_of(output, DCM_SOPInstanceUID));
  ASSERT_EQ(results.size(), 4u);
  std::set<std::string> at_pacs;
  for (const auto& id : orthanc.instance_ids()) at_pacs.insert(orthanc.sop_instance_uid_of(id));
  EXPECT_EQ(at_pacs, results);
  EXPECT_EQ(orthanc.receptions().size(), 4u) << "an image was sent more than once";
  EXPECT_NE(node.status_json().find("\"name\":\"pacs\",\"sent\":4,\"failed\":0,\"unknown\":0"), std::string::npos)
      << node.status_json();
}

TEST(Forwarding, nothing_listening_is_a_recorded_forward_failed_and_never_retried_by_default) {
  const int closed_port = harness::free_port();
  NodeUnderTest node(forwarding_to(closed_port, "NOBODY"));
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 2);
  ASSERT_TRUE(node.wait_for_state("forward_failed", 2, 60s)) << node.status_json() << node.log();
  std::this_thread::sleep_for(3s);  // several forwarder poll cycles: a retry would show as a second attempt
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"failed\":2"), std::string::npos) << status;
  EXPECT_EQ(node.count_in_state("forward_failed"), 2);
  const std::string log = node.log();
  std::size_t attempts = 0;
  for (auto at = log.find("outcome=failed"); at != std::string::npos; at = log.find("outcome=failed", at + 1)) ++attempts;
  EXPECT_EQ(attempts, 2u) << log;
}

TEST(Forwarding, a_kill_9_while_waiting_for_the_answer_ends_forward_unknown_and_is_never_resent) {
  harness::TempDir orthanc_dir;
  // Orthanc stores each image only after 6 s; our DIMSE timeout is longer, so the node is still waiting when killed.
  peers::Orthanc orthanc(orthanc_dir.path(), harness::free_port(), harness::free_port(), 6);
  ASSERT_TRUE(orthanc.wait_until_ready()) << orthanc.log();
  NodeUnderTest node(forwarding_to(orthanc.dicom_port(), "ORTHANC", 60));
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 1);
  ASSERT_TRUE(node.wait_for_state("forwarding", 1, 60s)) << node.status_json() << node.log();
  node.kill_hard();

  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("forward_unknown", 1, 30s)) << node.status_json() << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return orthanc.instance_ids().size() == 1; }, 30s)) << orthanc.log();
  std::this_thread::sleep_for(3s);  // several forwarder poll cycles
  EXPECT_EQ(orthanc.receptions().size(), 1u) << "the unknown attempt was sent again";
  EXPECT_EQ(node.count_in_state("forward_unknown"), 1);
}

TEST(Forwarding, with_retries_on_a_pacs_that_comes_up_late_gets_the_result_once) {
  const int port = harness::free_port();
  NodeUnderTest node(forwarding_to(port, "LATE", 10, "max_attempts = 4\nretry_backoff_s = 1\n"));
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 1);
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("outcome=failed") != std::string::npos; }, 60s))
      << node.log();
  harness::TempDir pacs_dir;
  peers::StoreScp pacs(pacs_dir.path(), port);
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  ASSERT_TRUE(node.wait_for_state("done", 1, 60s)) << node.status_json() << node.log();
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(pacs.received_files().size(), 1u);
}

}  // namespace
}  // namespace creni::testing
