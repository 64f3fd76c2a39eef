// Duplicates and conflicts per PS3.4 (#12 point 5), against the built binary and DCMTK's storescu: the same
// instance again, in any transfer syntax, is a success with no new job and nothing left in the spool; other content
// under a known SOP Instance UID gets a C-STORE failure status with an Error Comment, recorded and kept once however
// often the sender retries.
#include <gtest/gtest.h>

#include <regex>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// storescu -d (the responses in full) with `proposal` first (-xe explicit LE, -xb explicit BE, -xi implicit LE): the file goes out in it.
harness::CommandResult send(const NodeUnderTest& node, const std::filesystem::path& file, const std::string& proposal) {
  return harness::run_command({harness::find_program("storescu"), "-d", "-R", proposal, "-aet", "GATEWAY_1", "-aec",
                               "CRENI", "127.0.0.1", std::to_string(node.port()), file.string()},
                              60s);
}

// The DIMSE status storescu -d shows for the (one) C-STORE response, e.g. "0x0000" or "0xc111"; "" when none.
std::string response_status(const harness::CommandResult& sent) {
  std::smatch match;
  const std::string text = sent.out + sent.err;
  return std::regex_search(text, match, std::regex("DIMSE Status +: (0x[0-9a-f]{4})")) ? match[1].str() : "";
}

bool answered_success(const harness::CommandResult& sent) {
  return sent.exit_code == 0 && response_status(sent) == "0x0000";
}

// Jobs of all states, from `status --json`.
long all_jobs(const NodeUnderTest& node) {
  long total = 0;
  const std::string json = node.status_json();
  const std::regex count("\"count\":([0-9]+)");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), count); it != std::sregex_iterator(); ++it) {
    total += std::stol((*it)[1]);
  }
  return total;
}

TEST(Duplicates, the_same_instance_again_in_big_endian_and_implicit_vr_is_a_success_with_no_new_job_or_spool_file) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  ASSERT_TRUE(answered_success(send(node, staging / "one.dcm", "-xe")));
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();

  for (const std::string proposal : {"-xb", "-xi", "-xe"}) {
    const auto again = send(node, staging / "one.dcm", proposal);
    EXPECT_TRUE(answered_success(again)) << proposal << "\n" << again.out << again.err;
  }
  EXPECT_EQ(all_jobs(node), 1) << node.status_json();
  EXPECT_EQ(node.count_in_state("rejected"), 0);
  EXPECT_EQ(node.outputs().size(), 1u);
  // A repeat leaves nothing behind: no spool file per repeat, nothing in quarantine.
  EXPECT_TRUE(harness::spooled_files_below(node.state() / "spool").empty());
  EXPECT_TRUE(harness::files_below(node.state() / "quarantine").empty());
  EXPECT_NE(node.log().find("same content in another encoding: a duplicate"), std::string::npos) << node.log();
}

TEST(Duplicates, other_content_under_a_known_uid_is_refused_with_0xc111_recorded_and_kept_once_across_retries) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ImageSpec spec;
  spec.sop_instance_uid = fresh_uid();
  ASSERT_TRUE(write_image(spec, staging / "first.dcm").ok());
  spec.pixel = [](int, int row, int column, int) { return 1000 + row - column; };  // other pixels, same UID
  ASSERT_TRUE(write_image(spec, staging / "second.dcm").ok());
  ASSERT_TRUE(answered_success(send(node, staging / "first.dcm", "-xe")));
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();

  // A sender retrying, also in other transfer syntaxes.
  for (const std::string proposal : {"-xe", "-xe", "-xb", "-xi"}) {
    const auto refused = send(node, staging / "second.dcm", proposal);
    const std::string text = refused.out + refused.err;
    EXPECT_EQ(response_status(refused), "0xc111") << proposal << "\n" << text;
    EXPECT_NE(text.find("SOP Instance UID already received with other content"), std::string::npos) << text;
  }
  EXPECT_EQ(node.count_in_state("rejected"), 1) << node.status_json();
  EXPECT_EQ(all_jobs(node), 2) << node.status_json();
  // Kept once: in quarantine, not also in the spool.
  EXPECT_EQ(harness::files_below(node.state() / "quarantine").size(), 1u);
  EXPECT_TRUE(harness::spooled_files_below(node.state() / "spool").empty());
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST(Duplicates, a_c_store_the_worker_rejects_is_kept_once_in_quarantine_not_also_in_the_spool) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ImageSpec spec;
  spec.with_pixel_data = false;  // accepted at the door (durable first), rejected by the worker
  ASSERT_TRUE(write_image(spec, staging / "empty.dcm").ok());
  ASSERT_TRUE(answered_success(send(node, staging / "empty.dcm", "-xe")));
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 30s)) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return harness::spooled_files_below(node.state() / "spool").empty(); }, 10s));
  const auto kept = harness::files_below(node.state() / "quarantine");
  ASSERT_EQ(kept.size(), 1u) << node.log();
  // The job's input follows the file, so that `reprocess` still finds it.
  EXPECT_NE(node.status_json().find("\"input\":\"" + kept.front().string() + "\""), std::string::npos)
      << node.status_json();
}

}  // namespace
}  // namespace creni::testing
