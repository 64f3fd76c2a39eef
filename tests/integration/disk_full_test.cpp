// RELIABILITY D2: the spool or the journal volume full while a C-STORE comes in. The node runs in its own mount
// namespace (unshare -m; as a user other than root, inside a user namespace too) with small tmpfs mounts over its
// state folders, so that nothing outside the test is filled. A full volume is the machine's problem, not the image's:
// the sender gets 0xA700 and may send again, nothing half-written stays behind, the journal stays intact, and the
// next image that fits is stored without a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// An argv prefix that mounts each (size, folder) as a fresh tmpfs, in order, inside a private mount namespace,
// then runs the node there.
std::vector<std::string> in_own_mounts(const std::vector<std::pair<std::string, std::filesystem::path>>& mounts) {
  std::string script;
  for (const auto& [size, folder] : mounts) {
    script += "mkdir -p '" + folder.string() + "' && mount -t tmpfs -o size=" + size + " tmpfs '" + folder.string() +
              "' && ";
  }
  script += "exec \"$0\" \"$@\"";
  std::vector<std::string> argv{harness::find_program("unshare"), "-m", "--propagation", "private"};
  if (::geteuid() != 0) argv.emplace_back("--map-root-user");  // mounting needs root, in a namespace of its own
  argv.insert(argv.end(), {"sh", "-c", script});
  return argv;
}

// A path as the node sees it, inside its mount namespace.
std::filesystem::path seen_by(const NodeUnderTest& node, const std::filesystem::path& path) {
  return std::filesystem::path("/proc/" + std::to_string(node.pid()) + "/root") / path.relative_path();
}

harness::CommandResult store(const NodeUnderTest& node, const std::filesystem::path& file) {
  return harness::run_command({harness::find_program("storescu"), "-v", "-aet", "GATEWAY_1", "-aec", "CRENI",
                               "127.0.0.1", std::to_string(node.port()), file.string()},
                              60s);
}

bool refused_out_of_resources(const harness::CommandResult& sent) {
  return (sent.out + sent.err).find("Refused: OutOfResources") != std::string::npos;
}

class DiskFull : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(write_image(ImageSpec{}, small_).ok());
  }

  static NodeUnderTest::Settings no_watermark() {
    NodeUnderTest::Settings settings;
    settings.node = "min_free_mb = 0";  // the real write must fail, not the free-space check before it
    return settings;
  }

  harness::TempDir scratch_;
  std::filesystem::path small_ = scratch_ / "small.dcm";
};

TEST_F(DiskFull, a_full_spool_gets_0xa700_leaves_no_partial_file_and_the_next_image_that_fits_is_stored) {
  NodeUnderTest node(no_watermark());
  const auto spool = node.state() / "spool";
  ASSERT_TRUE(node.start_under(in_own_mounts({{"1m", spool}}))) << node.log();

  ImageSpec big;  // 2 MiB of pixels: more than the whole spool volume
  big.rows = 1024;
  big.columns = 1024;
  ASSERT_TRUE(write_image(big, scratch_ / "big.dcm").ok());
  const auto refused = store(node, scratch_ / "big.dcm");
  EXPECT_TRUE(refused_out_of_resources(refused)) << refused.out << refused.err << node.log();
  EXPECT_NE(node.log().find("status=0xA700 (cannot write the spool file)"), std::string::npos) << node.log();
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("processing") + node.count_in_state("written"), 0)
      << node.status_json();
  EXPECT_TRUE(harness::spooled_files_below(seen_by(node, spool)).empty()) << "a partial spool file stayed behind";

  // The space the refused image took is free again: an image that fits goes through, no restart needed.
  const auto stored = store(node, small_);
  ASSERT_EQ(stored.exit_code, 0) << stored.out << stored.err << node.log();
  EXPECT_FALSE(refused_out_of_resources(stored)) << stored.out;
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST_F(DiskFull, a_full_journal_volume_gets_0xa700_keeps_the_journal_intact_and_recovers_when_space_returns) {
  NodeUnderTest node(no_watermark());
  // The journal alone on a small volume; the spool on its own, roomy one.
  ASSERT_TRUE(node.start_under(in_own_mounts({{"1m", node.state()}, {"16m", node.state() / "spool"}}))) << node.log();
  node.read_status_in_its_mount_namespace();

  // Fill what is left of the journal's volume.
  const auto filler = seen_by(node, node.state() / "filler");
  {
    std::ofstream fill(filler, std::ios::binary);
    const std::string block(4096, 'x');
    for (int i = 0; i < 1024 && fill.write(block.data(), static_cast<std::streamsize>(block.size())); ++i) {
      fill.flush();
    }
  }
  const auto refused = store(node, small_);
  EXPECT_TRUE(refused_out_of_resources(refused)) << refused.out << refused.err << node.log();
  EXPECT_NE(node.log().find("cannot record"), std::string::npos) << node.log();
  EXPECT_TRUE(harness::spooled_files_below(seen_by(node, node.state() / "spool")).empty())
      << "the refused image's spool file stayed behind";

  // Space returns: the same image is sent again and goes through, and the journal reads back consistently.
  std::filesystem::remove(filler);
  const auto stored = store(node, small_);
  ASSERT_EQ(stored.exit_code, 0) << stored.out << stored.err << node.log();
  EXPECT_FALSE(refused_out_of_resources(stored)) << stored.out << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
}

// Fills `folder` (as the node sees it) with one file until the volume is full or `megabytes` are written.
std::filesystem::path fill(const NodeUnderTest& node, const std::filesystem::path& folder, int megabytes) {
  const auto filler = seen_by(node, folder / "filler");
  std::ofstream out(filler, std::ios::binary);
  const std::string block(1 << 20, 'x');
  for (int i = 0; i < megabytes && out.write(block.data(), static_cast<std::streamsize>(block.size())); ++i) {
    out.flush();
  }
  return filler;
}

TEST_F(DiskFull, below_the_watermark_c_stores_get_0xa700_at_once_the_folder_door_waits_and_both_resume_with_space) {
  NodeUnderTest::Settings settings;
  settings.node = "min_free_mb = 8";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start_under(in_own_mounts({{"16m", node.state()}}))) << node.log();
  node.read_status_in_its_mount_namespace();
  const auto filler = fill(node, node.state(), 10);  // 6 MiB left: under the 8 MiB watermark

  const auto began = std::chrono::steady_clock::now();
  const auto refused = store(node, small_);
  EXPECT_TRUE(refused_out_of_resources(refused)) << refused.out << refused.err << node.log();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  EXPECT_NE(node.log().find("intake paused: low disk space"), std::string::npos) << node.log();
  // The folder door leaves a new file where it is while space is low.
  const auto dropped = seen_by(node, node.input() / "gateway_2" / "dropped.dcm");
  std::filesystem::create_directories(dropped.parent_path());
  std::filesystem::copy_file(small_, dropped);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("processing") + node.count_in_state("written"), 0)
      << node.status_json();

  std::filesystem::remove(filler);  // space returns: no restart, nothing lost
  const auto stored = store(node, small_);
  EXPECT_EQ(stored.exit_code, 0) << stored.out << stored.err << node.log();
  EXPECT_FALSE(refused_out_of_resources(stored)) << stored.out;
  EXPECT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
}

TEST_F(DiskFull, a_state_volume_full_to_the_last_byte_never_stops_the_node) {
  NodeUnderTest::Settings settings = no_watermark();
  settings.tables = "[processing]\nio_retry_s = 1\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start_under(in_own_mounts({{"4m", node.state()}}))) << node.log();
  node.read_status_in_its_mount_namespace();
  const auto filler = fill(node, node.state(), 64);  // until ENOSPC

  for (int i = 0; i < 3; ++i) {
    const auto began = std::chrono::steady_clock::now();
    const auto refused = store(node, small_);
    EXPECT_TRUE(refused_out_of_resources(refused)) << refused.out << refused.err << node.log();
    EXPECT_LT(std::chrono::steady_clock::now() - began, 3s);
  }
  const auto dropped = seen_by(node, node.input() / "gateway_2" / "dropped.dcm");
  std::filesystem::create_directories(dropped.parent_path());
  std::filesystem::copy_file(small_, dropped);
  std::this_thread::sleep_for(3s);
  ASSERT_FALSE(node.exited_within(100ms)) << "the node stopped on a full disk: " << node.log();

  std::filesystem::remove(filler);
  const auto stored = store(node, small_);
  EXPECT_EQ(stored.exit_code, 0) << stored.out << stored.err << node.log();
  EXPECT_TRUE(node.wait_for_state("written", 2, 90s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
}

}  // namespace
}  // namespace creni::testing
