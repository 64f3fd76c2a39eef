// Forwarding end to end, through the built binary: results reach the PACS once, failures are recorded and never
// silently retried, and an attempt whose answer was lost in a crash is never sent again.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
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

TEST(Forwarding, a_burst_is_forwarded_in_batches_each_result_once_on_one_association) {
  harness::TempDir pacs_dir;
  peers::StoreScp pacs(pacs_dir.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  NodeUnderTest node(forwarding_to(pacs.port(), "PACS", 10, "share_association = \"study\"\n"));
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ImageSpec slice;
  slice.study_instance_uid = "1.2.826.0.1.3680043.2.1143.19.1";
  std::filesystem::create_directories(staging / "study");
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(write_image(slice, staging / "study" / std::to_string(i)).ok());
  std::filesystem::rename(staging / "study", node.input() / "gateway_1" / "study");
  ASSERT_TRUE(node.wait_for_state("done", 20, 60s)) << node.status_json() << node.log();
  std::this_thread::sleep_for(2s);  // forwarder poll cycles: time enough for a wrong second send
  EXPECT_EQ(pacs.store_requests_seen(), 20) << pacs.log();
  EXPECT_EQ(pacs.received_files().size(), 20u);
  EXPECT_EQ(node.count_in_state("done"), 20);
  EXPECT_LT(pacs.associations_acknowledged(), 20) << "no association was shared within the burst";
}

// One system call in an `strace -f` trace: who made it, and where it began and ended in the trace's order. A call
// that another thread's line interrupted is split in two lines ("<unfinished ...>", "<... resumed>"); a whole line
// was printed when the call ended, and it began after the line before it.
struct TracedCall {
  std::string thread;
  std::string text;
  double began = 0;
  double ended = 0;
};

std::vector<TracedCall> traced_calls(const std::filesystem::path& trace) {
  std::vector<TracedCall> calls;
  std::map<std::string, TracedCall> unfinished;
  std::ifstream in(trace);
  int position = 0;
  for (std::string line; std::getline(in, line); ++position) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    const std::string thread = line.substr(0, space);
    const std::string text = line.substr(line.find_first_not_of(' ', space));
    if (text.find("<unfinished ...>") != std::string::npos) {
      unfinished[thread] = {thread, text, static_cast<double>(position), 0};
    } else if (text.rfind("<... ", 0) == 0 && unfinished.count(thread) > 0) {
      TracedCall call = unfinished[thread];
      call.ended = position;
      calls.push_back(call);
      unfinished.erase(thread);
    } else {
      calls.push_back({thread, text, position - 0.5, static_cast<double>(position)});
    }
  }
  return calls;
}

// The folder door's arrivals and the pipeline's claims commit without a sync of their own, and every other commit
// is synced after the journal's lock is released, by whichever thread syncs the WAL first (group commit): before the
// forward goes out, a WAL sync that began after the claim was written to the WAL must have ended.
TEST(Forwarding, the_claim_of_a_forward_is_synced_before_the_association_even_after_unsynced_commits) {
  const std::string strace = harness::find_program("strace");
  ASSERT_FALSE(strace.empty()) << "strace is not installed (scripts/install-deps.sh test installs it)";
  harness::TempDir pacs_dir;
  peers::StoreScp pacs(pacs_dir.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  harness::TempDir trace_dir;
  const auto trace = trace_dir.path() / "trace.txt";
  NodeUnderTest::Settings settings = forwarding_to(pacs.port(), "PACS");
  settings.launcher = {strace, "-f", "-y", "-e", "trace=pwrite64,fdatasync,fsync,connect", "-o", trace.string()};
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 1);
  ASSERT_TRUE(node.wait_for_state("done", 1, 60s)) << node.status_json() << node.log();
  node.stop();  // strace, which forked the node, ends with it and flushes the trace

  const std::vector<TracedCall> calls = traced_calls(trace);
  const auto on_wal = [](const TracedCall& call) { return call.text.find("journal.db-wal>") != std::string::npos; };
  const auto is_sync = [](const TracedCall& call) { return call.text.find("sync(") != std::string::npos; };
  const std::string to_pacs = "htons(" + std::to_string(pacs.port()) + ")";
  int connects = 0;
  for (const TracedCall& connect : calls) {
    if (connect.text.find("connect(") == std::string::npos || connect.text.find(to_pacs) == std::string::npos) continue;
    ++connects;
    double claim_written = -1;  // the connecting thread's last WAL write before it connects: the claim's commit
    for (const TracedCall& call : calls) {
      if (call.thread == connect.thread && on_wal(call) && call.text.rfind("pwrite64(", 0) == 0 &&
          call.ended < connect.began) {
        claim_written = std::max(claim_written, call.ended);
      }
    }
    ASSERT_GE(claim_written, 0) << "no WAL write by the forwarding thread before it connected";
    const bool synced = std::any_of(calls.begin(), calls.end(), [&](const TracedCall& call) {
      return on_wal(call) && is_sync(call) && call.began > claim_written && call.ended < connect.began;
    });
    EXPECT_TRUE(synced) << "connected to the PACS before the claim was synced: " << connect.text;
  }
  EXPECT_EQ(connects, 1);
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
