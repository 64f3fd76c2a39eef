#include "creni/common/content_hash.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

namespace creni {
namespace {

TEST(ContentHash, matches_the_known_sha256_of_abc) {
  const auto path = std::filesystem::temp_directory_path() / ("creni-hash-" + std::to_string(::getpid()));
  { std::ofstream(path, std::ios::binary) << "abc"; }
  const auto hash = sha256_of_file(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(hash.ok());
  EXPECT_EQ(hash.value(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ContentHash, refuses_a_fifo_without_blocking) {
  const auto fifo = std::filesystem::temp_directory_path() / ("creni-hash-fifo-" + std::to_string(::getpid()));
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Without a writer, a blocking open of a FIFO for reading would never return.
  const auto hash = sha256_of_file(fifo);
  std::filesystem::remove(fifo);
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().code, "not_regular_file");
}

TEST(ContentHash, refuses_a_symbolic_link) {
  const auto link = std::filesystem::temp_directory_path() / ("creni-hash-link-" + std::to_string(::getpid()));
  std::filesystem::remove(link);
  std::filesystem::create_symlink("/etc/hostname", link);
  const auto hash = sha256_of_file(link);
  std::filesystem::remove(link);
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().code, "io_error");
}

}  // namespace
}  // namespace creni
