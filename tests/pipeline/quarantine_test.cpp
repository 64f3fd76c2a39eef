// The quarantine copy of a rejected input: never through a symbolic link, never over a copy already kept.
#include "quarantine.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "harness/harness.hpp"

namespace creni::pipeline {
namespace {

void write_text(const std::filesystem::path& file, const std::string& text) { std::ofstream(file) << text; }

TEST(Quarantine, keeps_a_copy_of_the_input_named_by_job) {
  const harness::TempDir root("creni-quarantine");
  write_text(root / "input", "rejected bytes");
  keep_in_quarantine(root / "quarantine", "1", 7, root / "input");
  EXPECT_EQ(harness::read_file(root.path() / "quarantine" / "gateway_1" / "job-7"), "rejected bytes");
}

TEST(Quarantine, never_follows_an_input_that_is_a_symbolic_link) {
  const harness::TempDir root("creni-quarantine");
  write_text(root / "secret", "not for quarantine");
  std::filesystem::create_symlink(root / "secret", root / "input");
  keep_in_quarantine(root / "quarantine", "1", 7, root / "input");
  EXPECT_FALSE(std::filesystem::exists(root.path() / "quarantine" / "gateway_1" / "job-7"));
}

TEST(Quarantine, never_writes_through_a_symlinked_gateway_folder_nor_over_a_kept_copy) {
  const harness::TempDir root("creni-quarantine");
  write_text(root / "input", "second");
  std::filesystem::create_directories(root / "quarantine");
  std::filesystem::create_directories(root / "elsewhere");
  std::filesystem::create_directory_symlink(root / "elsewhere", root.path() / "quarantine" / "gateway_2");
  keep_in_quarantine(root / "quarantine", "2", 7, root / "input");
  EXPECT_TRUE(std::filesystem::is_empty(root / "elsewhere"));

  std::filesystem::create_directories(root.path() / "quarantine" / "gateway_1");
  write_text(root.path() / "quarantine" / "gateway_1" / "job-7", "first");
  keep_in_quarantine(root / "quarantine", "1", 7, root / "input");
  EXPECT_EQ(harness::read_file(root.path() / "quarantine" / "gateway_1" / "job-7"), "first");
}

}  // namespace
}  // namespace creni::pipeline
