// fs::Directory: files are created by name below an opened folder, never through a symbolic link and never over
// an existing file.
#include "creni/common/directory.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>

namespace creni::fs {
namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    root_ = std::filesystem::temp_directory_path() / ("creni-directory-" + std::to_string(random()));
    std::filesystem::create_directories(root_ / "outside");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::filesystem::path root_;
};

TEST_F(DirectoryTest, open_beneath_creates_missing_folders_and_refuses_a_symlinked_one) {
  auto made = Directory::open_beneath(root_, "a/b", /*create=*/true);
  ASSERT_TRUE(made.ok()) << made.error().describe();
  EXPECT_TRUE(std::filesystem::is_directory(root_ / "a" / "b"));

  std::filesystem::create_directory_symlink(root_ / "outside", root_ / "a" / "link");
  auto linked = Directory::open_beneath(root_, "a/link/c", /*create=*/true);
  ASSERT_FALSE(linked.ok());
  EXPECT_EQ(linked.error().code, "symlink");
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "outside"));
  EXPECT_EQ(Directory::open_beneath(root_, "../x", true).error().code, "invalid_path");
}

TEST_F(DirectoryTest, a_new_file_never_takes_an_existing_name_nor_a_link) {
  auto folder = Directory::open_root(root_, false);
  ASSERT_TRUE(folder.ok());
  write_text(root_ / "taken", "first");
  EXPECT_EQ(folder->create_file("taken").error().code, "exists");
  std::filesystem::create_symlink(root_ / "outside" / "target", root_ / "dangling");
  EXPECT_FALSE(folder->create_file("dangling").ok());
  EXPECT_FALSE(std::filesystem::exists(root_ / "outside" / "target"));
  EXPECT_EQ(read_text(root_ / "taken"), "first");
}

TEST_F(DirectoryTest, rename_keeps_an_existing_file_unless_replacing_is_allowed) {
  auto folder = Directory::open_root(root_, false);
  ASSERT_TRUE(folder.ok());
  write_text(root_ / "result", "first");
  write_text(root_ / "staged", "second");
  const Status kept = folder->rename("staged", "result", Replace::never);
  ASSERT_FALSE(kept.ok());
  EXPECT_EQ(kept.error().code, "exists");
  EXPECT_EQ(read_text(root_ / "result"), "first");
  EXPECT_TRUE(std::filesystem::exists(root_ / "staged"));
  ASSERT_TRUE(folder->rename("staged", "result", Replace::allowed).ok());
  EXPECT_EQ(read_text(root_ / "result"), "second");
}

TEST_F(DirectoryTest, copy_in_copies_completely_and_never_over_an_existing_file) {
  auto folder = Directory::open_root(root_, false);
  ASSERT_TRUE(folder.ok());
  write_text(root_ / "outside" / "source", "bytes");
  const int source = ::open((root_ / "outside" / "source").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(source, 0);
  ASSERT_TRUE(folder->copy_in(source, "copy").ok());
  EXPECT_EQ(read_text(root_ / "copy"), "bytes");
  ASSERT_EQ(::lseek(source, 0, SEEK_SET), 0);
  EXPECT_EQ(folder->copy_in(source, "copy").error().code, "exists");
  ::close(source);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(root_)) ++entries;
  EXPECT_EQ(entries, 2u) << "a temporary copy was left behind";
}

TEST_F(DirectoryTest, open_regular_file_refuses_links_and_fifos_without_blocking) {
  auto folder = Directory::open_root(root_, false);
  ASSERT_TRUE(folder.ok());
  write_text(root_ / "outside" / "secret", "secret");
  std::filesystem::create_symlink(root_ / "outside" / "secret", root_ / "link");
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(folder->open_regular_file("link").error().code, "symlink");
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(folder->open_regular_file("fifo").error().code, "not_regular_file");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(folder->open_regular_file("missing").error().code, "input_vanished");
}

}  // namespace
}  // namespace creni::fs
