#include "creni/common/atomic_file.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <vector>
#include <sstream>

namespace creni::fs {
namespace {

class AtomicFile : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("creni-atomic-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  static std::string read(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  std::filesystem::path root_;
};

TEST_F(AtomicFile, writes_the_whole_content_and_leaves_no_temporary_file) {
  const auto target = root_ / "out.dcm";
  ASSERT_TRUE(write_file_atomically(target, "hello").ok());
  EXPECT_EQ(read(target), "hello");
  for (const auto& entry : std::filesystem::directory_iterator(root_)) {
    EXPECT_EQ(entry.path().filename(), "out.dcm");
  }
}

TEST_F(AtomicFile, replaces_an_existing_file) {
  const auto target = root_ / "out.dcm";
  ASSERT_TRUE(write_file_atomically(target, "old").ok());
  ASSERT_TRUE(write_file_atomically(target, "new").ok());
  EXPECT_EQ(read(target), "new");
}

TEST_F(AtomicFile, temporary_names_are_hidden_and_marked) {
  const auto temp = temp_path_for(root_ / "x.dcm");
  EXPECT_EQ(temp.parent_path(), root_);
  EXPECT_EQ(temp.filename().string().front(), '.');
  EXPECT_NE(temp.filename().string().find(kTempSuffix), std::string::npos);
  EXPECT_NE(temp, temp_path_for(root_ / "x.dcm"));
}

TEST_F(AtomicFile, reports_a_missing_directory_as_io_error) {
  const Status status = write_file_atomically(root_ / "missing" / "x.dcm", "x");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "io_error");
  EXPECT_NE(status.error().message.find("missing"), std::string::npos);
}

TEST_F(AtomicFile, commit_moves_a_temporary_file_into_place) {
  const auto target = root_ / "y.dcm";
  const auto temp = temp_path_for(target);
  { std::ofstream(temp) << "payload"; }
  ASSERT_TRUE(commit_file(temp, target).ok());
  EXPECT_FALSE(std::filesystem::exists(temp));
  EXPECT_EQ(read(target), "payload");
}

TEST_F(AtomicFile, removes_only_the_temporary_files_of_one_process) {
  std::filesystem::create_directories(root_ / "study" / "deeper");
  const std::vector<std::filesystem::path> of_123 = {root_ / ".a.dcm.123.0.creni-tmp",
                                                     root_ / "study" / ".b.dcm.123.41.creni-tmp"};
  const std::vector<std::filesystem::path> kept = {
      root_ / ".a.dcm.1234.0.creni-tmp",             // another process
      root_ / ".1.2.123.9.dcm.77.3.creni-tmp",       // ".123." inside the name, process 77
      root_ / "a.dcm.123.0.creni-tmp",               // not hidden: not one of ours
      root_ / ".a.dcm.123.0.tmp",                    // not our suffix
      root_ / "study" / "deeper" / ".c.dcm.123.1.creni-tmp",  // below the depth asked for
      root_ / "study" / "result.dcm"};
  for (const auto& file : of_123) std::ofstream(file) << "x";
  for (const auto& file : kept) std::ofstream(file) << "x";
  EXPECT_EQ(remove_temp_files_of(root_, 123, 1), of_123.size());
  for (const auto& file : of_123) EXPECT_FALSE(std::filesystem::exists(file)) << file;
  for (const auto& file : kept) EXPECT_TRUE(std::filesystem::exists(file)) << file;
}

TEST_F(AtomicFile, creates_nested_directories) {
  ASSERT_TRUE(create_directories_durably(root_ / "a" / "b" / "c").ok());
  EXPECT_TRUE(std::filesystem::is_directory(root_ / "a" / "b" / "c"));
}

}  // namespace
}  // namespace creni::fs
