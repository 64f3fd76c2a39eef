// Paths, folders and nothing silent (#12 points 4 and 7), against the built binary: only regular files are read,
// overlapping or shared folders stop the start with exit code 2, every file seen and not taken is said once and
// counted, and a journal deleted or replaced under the running node stops it with an error.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A copy of the node's config with one [node] folder key pointing elsewhere, written next to it.
std::filesystem::path config_with(const NodeUnderTest& node, const std::string& key, const std::filesystem::path& value,
                                  const std::string& name) {
  const std::string text = std::regex_replace(read_text(node.config_file()), std::regex(key + " = \"[^\"]*\""),
                                              key + " = \"" + value.string() + "\"");
  const auto file = node.config_file().parent_path() / name;
  std::ofstream(file) << text;
  return file;
}

harness::CommandResult run_node(const std::filesystem::path& config) {
  return harness::run_command({CRENI_NODE_BINARY, "run", "--config", config.string()}, 20s);
}

std::filesystem::path drop_image(const std::filesystem::path& folder) {
  ImageSpec spec;
  spec.study_instance_uid = fresh_uid();
  spec.series_instance_uid = fresh_uid();
  spec.sop_instance_uid = fresh_uid();
  std::filesystem::create_directories(folder);
  const auto file = folder / spec.sop_instance_uid;
  EXPECT_TRUE(write_image(spec, file.string() + ".part").ok());
  std::filesystem::rename(file.string() + ".part", file);
  return file;
}

long files_not_taken(const NodeUnderTest& node) {
  std::smatch match;
  const std::string json = node.status_json();
  if (!std::regex_search(json, match, std::regex("\"files_not_taken\":([0-9]+)"))) return -1;
  return std::stol(match[1]);
}

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t count = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

TEST(IntakePaths, fifos_in_a_gateway_folder_are_skipped_with_a_warning_and_never_block) {
  NodeUnderTest node;
  const auto gateway = node.input() / "gateway_1";
  std::filesystem::create_directories(gateway / "study");
  // A FIFO without a writer blocks whoever opens it for reading: the watcher, the hashing, SQLite (image.db).
  ASSERT_EQ(::mkfifo((gateway / "image.db").c_str(), 0644), 0);
  ASSERT_EQ(::mkfifo((gateway / "study" / "1.2.3.4").c_str(), 0644), 0);
  ASSERT_TRUE(node.start()) << node.log();
  drop_image(gateway / "study");

  // The image next to them is processed (the worker reads no image.db that is a FIFO) and the node stays responsive.
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return files_not_taken(node) == 2; }, 10s)) << node.status_json() << node.log();
  const std::string log = node.log();
  EXPECT_NE(log.find("not_regular_file: " + (gateway / "study" / "1.2.3.4").string()), std::string::npos) << log;
  EXPECT_NE(log.find("not_regular_file: " + (gateway / "image.db").string()), std::string::npos) << log;
  EXPECT_NE(log.find("the gateway's image.db is not a regular file"), std::string::npos) << log;
  EXPECT_EQ(node.count_in_state("rejected"), 0);
  EXPECT_EQ(node.stop(), 0);
}

TEST(IntakePaths, files_outside_gateway_folders_are_said_once_each_and_counted) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  drop_image(node.input());                        // in INPUT itself
  drop_image(node.input() / "gateway1" / "study");  // a folder not named gateway_<id>
  drop_image(node.input() / "gateway_1");          // taken

  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return files_not_taken(node) == 2; }, 10s)) << node.status_json() << node.log();
  // A folder made later is found by a rescan (every 2 s here): by then the first two were listed again.
  drop_image(node.input() / "later");
  ASSERT_TRUE(harness::wait_until([&] { return files_not_taken(node) == 3; }, 10s)) << node.status_json() << node.log();
  const std::string log = node.log();
  EXPECT_EQ(occurrences(log, "file not taken: outside_gateway_folder: " + node.input().string() + "/gateway1/"), 1u)
      << log;
  EXPECT_EQ(occurrences(log, "file not taken: outside_gateway_folder: "), 3u) << log;
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST(IntakePaths, an_unreadable_file_is_said_once_and_taken_once_it_can_be_read) {
  NodeUnderTest node;
  // Root reads any file: the node runs as nobody here, so that a file without read permission is unreadable to it.
  const auto root = node.config_file().parent_path();
  ASSERT_EQ(harness::run_command({"chown", "-R", "65534:65534", root.string()}).exit_code, 0);
  ASSERT_TRUE(node.start_under({harness::find_program("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"}))
      << node.log();
  // Made unreadable before it is moved in, so that it is never readable while the node can see it.
  const auto staged = root / "unreadable.dcm";
  ASSERT_TRUE(write_image(ImageSpec{}, staged).ok());
  ASSERT_EQ(::chown(staged.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(staged.c_str(), 0), 0);
  std::filesystem::create_directories(node.input() / "gateway_1");
  const auto file = node.input() / "gateway_1" / "unreadable.dcm";
  std::filesystem::rename(staged, file);
  ASSERT_TRUE(harness::wait_until([&] { return files_not_taken(node) == 1; }, 20s)) << node.log();
  EXPECT_NE(node.log().find("file not taken: unreadable: " + file.string()), std::string::npos) << node.log();
  EXPECT_EQ(node.count_in_state("written"), 0);

  // Fixed in place (same size, same modification time): taken at the next try.
  ASSERT_EQ(::chmod(file.c_str(), 0644), 0);
  EXPECT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
  EXPECT_EQ(occurrences(node.log(), "file not taken: unreadable: "), 1u) << node.log();
}

TEST(IntakePaths, a_folder_too_deep_to_be_named_is_said_and_counted) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  // 22 folders of 200 characters: their full path is longer than PATH_MAX (4096), so it can only be made level by
  // level, relative to an open folder.
  const std::string level(200, 'd');
  int folder = ::open((node.input() / "gateway_1").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(folder, 0);
  for (int depth = 0; depth < 22; ++depth) {
    ASSERT_EQ(::mkdirat(folder, level.c_str(), 0755), 0);
    const int next = ::openat(folder, level.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ::close(folder);
    ASSERT_GE(next, 0);
    folder = next;
  }
  ::close(folder);
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("name_too_long") != std::string::npos; }, 15s))
      << node.log();
  EXPECT_TRUE(harness::wait_until([&] { return files_not_taken(node) >= 1; }, 10s)) << node.status_json();
  EXPECT_EQ(node.stop(), 0);
}

TEST(IntakePaths, output_or_state_inside_input_or_the_same_folder_stops_the_start_with_exit_code_2) {
  NodeUnderTest node;
  const auto inside = run_node(config_with(node, "output_dir", node.input() / "OUTPUT", "inside.toml"));
  EXPECT_EQ(inside.exit_code, 2) << inside.err;
  EXPECT_NE(inside.err.find("node.output_dir (" + (node.input() / "OUTPUT").string() + ") lies inside node.input_dir"),
            std::string::npos)
      << inside.err;
  EXPECT_FALSE(std::filesystem::exists(node.input() / "OUTPUT")) << "checked before anything is created";

  // The same folder reached through a symbolic link is still the same folder.
  std::filesystem::create_directories(node.state());
  const auto alias = node.config_file().parent_path() / "alias-of-state";
  std::filesystem::create_directory_symlink(node.state(), alias);
  const auto same = run_node(config_with(node, "input_dir", alias, "same.toml"));
  EXPECT_EQ(same.exit_code, 2) << same.err;
  EXPECT_NE(same.err.find("is the same folder as node.state_dir"), std::string::npos) << same.err;

  // INPUT inside the state folder, one level down through a link.
  const auto under = run_node(config_with(node, "input_dir", alias / "in", "under.toml"));
  EXPECT_EQ(under.exit_code, 2) << under.err;
  EXPECT_NE(under.err.find("node.input_dir (" + (node.state() / "in").string() + ") lies inside node.state_dir"),
            std::string::npos)
      << under.err;
}

TEST(IntakePaths, a_second_node_on_the_same_input_folder_exits_2_and_names_the_holder) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  // Other OUTPUT and state folders, the same INPUT.
  const auto root = node.config_file().parent_path();
  auto config = config_with(node, "state_dir", root / "state2", "second.toml");
  const std::string text = std::regex_replace(read_text(config), std::regex("output_dir = \"[^\"]*\""),
                                              "output_dir = \"" + (root / "OUTPUT2").string() + "\"");
  std::ofstream(config) << text;
  const auto second = run_node(config);
  EXPECT_EQ(second.exit_code, 2) << second.err;
  EXPECT_NE(second.err.find("locked"), std::string::npos) << second.err;
  EXPECT_NE(second.err.find("(pid " + std::to_string(node.pid()) + ") uses the input folder"), std::string::npos)
      << second.err;
  // The first node is untouched.
  drop_image(node.input() / "gateway_1");
  EXPECT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
}

TEST(IntakePaths, shards_with_their_own_gateways_share_input_and_two_on_one_gateway_do_not) {
  NodeUnderTest::Settings settings;
  settings.input = "discover_gateways = false";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const auto root = node.config_file().parent_path();
  const auto elsewhere = [&](const std::string& name, const std::string& gateways_from, const std::string& to) {
    std::string text = read_text(node.config_file());
    text = std::regex_replace(text, std::regex("state_dir = \"[^\"]*\""), "state_dir = \"" + (root / ("state-" + name)).string() + "\"");
    text = std::regex_replace(text, std::regex("port = [0-9]+"), "port = " + std::to_string(harness::free_port()));
    text = std::regex_replace(text, std::regex("listen = \"127\\.0\\.0\\.1:[0-9]+\""),
                              "listen = \"127.0.0.1:" + std::to_string(harness::free_port()) + "\"");
    text = std::regex_replace(text, std::regex(gateways_from), to);
    const auto file = root / (name + ".toml");
    std::ofstream(file) << text;
    return file;
  };
  // The same gateways: refused, naming the first node.
  const auto same = run_node(elsewhere("same", "\\[\\[gateway\\]\\]", "[[gateway]]"));
  EXPECT_EQ(same.exit_code, 2) << same.err;
  EXPECT_NE(same.err.find("(pid " + std::to_string(node.pid()) + ") uses the input folder " +
                          (node.input() / "gateway_1").string()),
            std::string::npos)
      << same.err;
  // Other gateways (3 and 4) on the same INPUT: a shard of its own, it starts.
  harness::ChildProcess shard({CRENI_NODE_BINARY, "run", "--config",
                               elsewhere("shard", "id = \"([12])\"", "id = \"3$1\"").string()},
                              root);
  EXPECT_TRUE(harness::wait_until([&] { return shard.stderr_text().find(" started: input ") != std::string::npos; }, 20s))
      << shard.stderr_text();
}

TEST(IntakePaths, a_journal_deleted_under_the_running_node_stops_it_with_an_error) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  drop_image(node.input() / "gateway_1");
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();

  std::filesystem::remove(node.state() / "journal.db");
  ASSERT_TRUE(node.exited_within(15s)) << node.log();
  EXPECT_EQ(node.stop(), 3);
  EXPECT_NE(node.log().find("journal_replaced"), std::string::npos) << node.log();
  EXPECT_NE(node.log().find("is gone"), std::string::npos) << node.log();
}

TEST(IntakePaths, a_journal_replaced_under_the_running_node_stops_it_with_an_error) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return std::filesystem::exists(node.state() / "journal.db"); }, 10s));
  // Another file (here a copy of itself) put in its place: the running node would go on writing the unlinked one.
  const auto copy = node.state() / "journal.copy";
  std::filesystem::copy_file(node.state() / "journal.db", copy);
  std::filesystem::rename(copy, node.state() / "journal.db");
  ASSERT_TRUE(node.exited_within(15s)) << node.log();
  EXPECT_EQ(node.stop(), 3);
  EXPECT_NE(node.log().find("is no longer the journal this node opened"), std::string::npos) << node.log();
}

}  // namespace
}  // namespace creni::testing
