// Fairness (issue 13): an input that hangs the decoder until job_timeout_s costs one worker per attempt; its retry
// waits behind fresh work instead of holding the head of the queue (the journal's claim order).
#include <gtest/gtest.h>

#include <fstream>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// DCMTK 3.6.7's JPEG decoder spins forever when the first marker after SOI (APP0, FF E0) becomes the TEM marker
// FF 01 (../shared/RELIABILITY.md, E1).
std::string decoder_hang_bytes(const std::filesystem::path& scratch) {
  ImageSpec spec;
  spec.transfer_syntax = "1.2.840.10008.1.2.4.70";
  spec.sop_instance_uid = fresh_uid();
  const auto file = scratch / "jpeg.dcm";
  if (!write_image(spec, file).ok()) return "";
  std::string bytes = harness::read_file(file);
  const auto soi = bytes.find(std::string("\xFF\xD8\xFF\xE0", 4));
  if (soi == std::string::npos) return "";
  bytes[soi + 3] = '\x01';
  return bytes;
}

TEST(Fairness, fresh_images_are_processed_before_the_retry_of_an_input_that_hung_the_decoder) {
  NodeUnderTest::Settings settings;  // two workers
  settings.tables = "[processing]\njob_timeout_s = 4\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir scratch;

  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  for (const std::string name : {"hang-a", "hang-b"}) {  // one for each worker
    const std::string hang = decoder_hang_bytes(scratch.path());
    ASSERT_FALSE(hang.empty());
    { std::ofstream(folder / (name + ".part"), std::ios::binary) << hang; }
    std::filesystem::rename(folder / (name + ".part"), folder / name);
  }
  ASSERT_TRUE(node.wait_for_state("processing", 2, 30s)) << node.status_json() << node.log();
  const auto hung_since = std::chrono::steady_clock::now();

  // Fresh work arrives while both workers are stuck on poison inputs.
  std::vector<std::string> argv = {harness::find_program("storescu"), "-aet", "GATEWAY_2", "-aec", "CRENI",
                                   "127.0.0.1", std::to_string(node.port())};
  for (int i = 0; i < 3; ++i) {
    ImageSpec spec;
    spec.sop_instance_uid = fresh_uid();
    const auto file = scratch / ("fresh" + std::to_string(i) + ".dcm");
    ASSERT_TRUE(write_image(spec, file).ok());
    argv.push_back(file.string());
  }
  ASSERT_EQ(harness::run_command(argv, 30s).exit_code, 0) << node.log();

  // One timeout for the first attempts, then the fresh images; the retries (and their second timeouts) only after
  // them. Outputs are looked at, not the journal: a result is recorded `written` one answer later (pipeline).
  ASSERT_TRUE(harness::wait_until([&] { return node.outputs().size() >= 3; }, 30s)) << node.log();
  // After one job_timeout_s (4 s), not two: had the retries gone first, both workers would have hung again.
  EXPECT_LT(std::chrono::steady_clock::now() - hung_since, 6500ms) << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << "the retry went before fresh work: " << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("rejected", 2, 30s)) << node.status_json() << node.log();
  EXPECT_TRUE(node.wait_for_state("written", 3, 30s)) << node.status_json();
  EXPECT_NE(node.status_json().find("\"reason\":\"poison\""), std::string::npos) << node.status_json();
}

}  // namespace
}  // namespace creni::testing
