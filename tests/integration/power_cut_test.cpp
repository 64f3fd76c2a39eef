// A power cut after a C-STORE was acknowledged loses nothing (RELIABILITY.md bar 1, issue 19). The node runs with
// the sync_shadow library preloaded, which records what each fsync/fdatasync made durable; after a SIGKILL the test
// rebuilds the node's folders as a power cut would leave them (only synced file contents and synced folder entries,
// nothing written after), starts the node on them and checks that every acknowledged image is processed.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fcntl.h>

#include <fstream>
#include <sstream>
#include <string>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// The identity sync_shadow.c gives a file: inode and birth time.
std::string identity_of(const std::filesystem::path& path) {
  struct statx info {};
  if (::statx(AT_FDCWD, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_INO | STATX_BTIME, &info) != 0) return {};
  char id[128];
  std::snprintf(id, sizeof id, "%llu-%lld%09u", static_cast<unsigned long long>(info.stx_ino),
                static_cast<long long>(info.stx_btime.tv_sec), info.stx_btime.tv_nsec);
  return id;
}

// Rebuilds into `target` the folder recorded as `id`: the entries of its last sync, each file with the content of
// its last sync (empty when it never had one), each folder likewise. Returns false when the folder never had a sync.
bool rebuild(const std::filesystem::path& shadow, const std::string& id, const std::filesystem::path& target) {
  std::ifstream listing(shadow / ("dir-" + id));
  if (!listing) return false;
  std::filesystem::create_directories(target);
  for (std::string line; std::getline(listing, line);) {
    std::istringstream fields(line);
    char type = 0;
    std::string child;
    std::string name;
    fields >> type >> child;
    std::getline(fields >> std::ws, name);
    if (type == 'd') {
      if (!rebuild(shadow, child, target / name)) std::filesystem::create_directories(target / name);
    } else if (std::filesystem::exists(shadow / ("ino-" + child))) {
      std::filesystem::copy_file(shadow / ("ino-" + child), target / name);
    } else {
      std::ofstream(target / name).flush();
    }
  }
  return true;
}

class PowerCut : public ::testing::Test {
 protected:
  NodeUnderTest::Settings recorded(std::vector<std::string> environment = {}) const {
    NodeUnderTest::Settings settings;
    settings.launcher = {"env", "LD_PRELOAD=" + std::string(CRENI_SYNC_SHADOW_LIBRARY),
                         "CRENI_SYNC_SHADOW=" + shadow_.path().string(), "CRENI_SYNC_ROOT=" + root_.string()};
    settings.launcher.insert(settings.launcher.end(), environment.begin(), environment.end());
    return settings;
  }

  // Replaces the node's state and OUTPUT folders by what a power cut at this moment would have left of them.
  void cut_power(NodeUnderTest& node) {
    node.kill_hard();
    const std::string state_id = identity_of(node.state());
    const std::string output_id = identity_of(node.output());
    std::filesystem::remove_all(node.state());
    std::filesystem::remove_all(node.output());
    ASSERT_TRUE(rebuild(shadow_.path(), state_id, node.state())) << "the state folder was never synced";
    // OUTPUT is synced once a result is written there; before that, a power cut leaves it empty.
    if (!rebuild(shadow_.path(), output_id, node.output())) std::filesystem::create_directories(node.output());
  }

  std::vector<std::filesystem::path> images(int count) {
    std::vector<std::filesystem::path> files;
    for (int i = 0; i < count; ++i) {
      const ImageSpec spec;
      files.push_back(staging_ / ("image-" + std::to_string(i) + ".dcm"));
      EXPECT_TRUE(write_image(spec, files.back()).ok());
    }
    return files;
  }

  harness::TempDir shadow_;
  harness::TempDir staging_;
  std::filesystem::path root_;
};

TEST_F(PowerCut, every_image_acknowledged_before_a_power_cut_is_processed_after_it) {
  NodeUnderTest node(NodeUnderTest::Settings{});
  root_ = node.state().parent_path();
  NodeUnderTest::Settings settings = recorded();
  ASSERT_TRUE(node.start_under(settings.launcher)) << node.log();
  const auto files = images(6);
  std::vector<std::string> argv = {harness::find_program("storescu"), "-v", "-aet", "GATEWAY_1", "-aec", "CRENI",
                                   "127.0.0.1", std::to_string(node.port())};
  for (const auto& file : files) argv.push_back(file.string());
  const auto sent = harness::run_command(argv, 60s);
  const std::string sender_log = sent.out + sent.err;
  std::size_t acknowledged = 0;
  for (std::size_t at = sender_log.find("Received Store Response (Success)"); at != std::string::npos;
       at = sender_log.find("Received Store Response (Success)", at + 1)) {
    ++acknowledged;
  }
  ASSERT_EQ(acknowledged, files.size()) << sender_log;
  cut_power(node);

  ASSERT_TRUE(node.start_under({})) << node.log();
  EXPECT_TRUE(node.wait_for_state("written", static_cast<long>(files.size()), 90s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), files.size()) << node.status_json();
}

// The journal row of an SCP arrival is committed without a sync: a power cut right after it (here: the process
// killed at the crash point right after that commit, before the pipeline can claim the job and so sync the
// journal, and everything unsynced dropped) loses the row, and the start records the image again from its
// spool file, whose content and arrival record were synced together.
TEST_F(PowerCut, an_arrival_whose_unsynced_journal_row_was_lost_is_recorded_again_from_its_spool_file) {
  harness::TempDir scratch;
  NodeUnderTest node(NodeUnderTest::Settings{});
  root_ = node.state().parent_path();
  const NodeUnderTest::Settings settings =
      recorded({"CRENI_CRASH_AT=journal_arrival_committed_unsynced", "CRENI_CRASH_MARKER=" + (scratch / "crashed").string()});
  ASSERT_TRUE(node.start_under(settings.launcher)) << node.log();
  const auto files = images(1);
  (void)harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1",
                              std::to_string(node.port()), files.front().string()},
                             60s);
  ASSERT_TRUE(node.exited_within(20s)) << node.log();
  ASSERT_TRUE(std::filesystem::exists(scratch / "crashed"));
  cut_power(node);

  ASSERT_TRUE(node.start_under({})) << node.log();
  EXPECT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  EXPECT_NE(node.log().find("recorded from its spool file"), std::string::npos) << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
}

}  // namespace
}  // namespace creni::testing
