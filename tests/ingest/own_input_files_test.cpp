#include "creni/ingest/own_input_files.hpp"

#include <gtest/gtest.h>

#include <string>

namespace creni::ingest {
namespace {

using namespace std::chrono_literals;

std::filesystem::path mirror(int n) { return "/in/gateway_1/1.2.3/1.2.3." + std::to_string(n); }

// The retention soak found this set growing by every SCP arrival: the watcher usually sees a mirror before the
// pipeline adds it, hands it over itself and never claims the entry. An hour of unclaimed additions at 3 a
// second must leave no more than 1.5 kKeep of them.
TEST(OwnInputFiles, unclaimed_files_expire_so_that_a_steady_stream_keeps_the_set_bounded) {
  OwnInputFiles own;
  const auto start = OwnInputFiles::Clock::now();
  constexpr int kPerSecond = 3;
  std::size_t largest = 0;
  for (int second = 0; second < 3600; ++second) {
    for (int k = 0; k < kPerSecond; ++k) own.add(mirror(second * kPerSecond + k), start + std::chrono::seconds(second));
    largest = std::max(largest, own.size());
  }
  const auto bound = static_cast<std::size_t>(kPerSecond * OwnInputFiles::kKeep.count() * 3 / 2 + kPerSecond);
  EXPECT_LE(largest, bound);
  EXPECT_GE(own.size(), static_cast<std::size_t>(kPerSecond * OwnInputFiles::kKeep.count()));  // recent ones stay
}

TEST(OwnInputFiles, a_file_is_claimed_once_within_its_keep_and_not_after_it_expired) {
  OwnInputFiles own;
  const auto start = OwnInputFiles::Clock::now();
  own.add(mirror(1), start);
  own.add(mirror(2), start);
  EXPECT_TRUE(own.claim(mirror(1).string(), OwnInputFiles::FileIdentity{}));
  EXPECT_FALSE(own.claim(mirror(1).string(), OwnInputFiles::FileIdentity{}));
  own.add(mirror(3), start + OwnInputFiles::kKeep + 1s);  // the next addition after kKeep lets mirror(2) go
  EXPECT_FALSE(own.claim(mirror(2).string(), OwnInputFiles::FileIdentity{}));
  EXPECT_TRUE(own.claim(mirror(3).string(), OwnInputFiles::FileIdentity{}));
  EXPECT_EQ(own.size(), 0u);
}

OwnInputFiles::FileIdentity inode(std::uint64_t number) {
  OwnInputFiles::FileIdentity identity;
  identity.device = 2049;
  identity.inode = number;
  return identity;
}

// The pipeline expects an SCP arrival's mirror before its worker links it: the watcher knows the link by the spool
// file's inode, the SOP Instance UID as its name and the gateway's folder, whatever study folder it lies in.
TEST(OwnInputFiles, an_expected_link_is_claimed_once_by_its_inode_name_and_gateway_folder) {
  OwnInputFiles own;
  own.expect("/in/gateway_1", "1.2.3.7", inode(41));
  EXPECT_EQ(own.size(), 1u);
  EXPECT_FALSE(own.claim("/in/gateway_1/1.2.3/1.2.3.7", inode(42))) << "another inode: a gateway's own copy";
  EXPECT_FALSE(own.claim("/in/gateway_1/1.2.3/1.2.3.8", inode(41))) << "another name";
  EXPECT_FALSE(own.claim("/in/gateway_2/1.2.3/1.2.3.7", inode(41))) << "another gateway's folder";
  EXPECT_FALSE(own.claim("/in/gateway_1/1.2.3.7", inode(41))) << "not in a study folder";
  EXPECT_TRUE(own.claim("/in/gateway_1/1.2.3/1.2.3.7", inode(41)));
  EXPECT_FALSE(own.claim("/in/gateway_1/1.2.3/1.2.3.7", inode(41))) << "once";
  EXPECT_EQ(own.size(), 0u);
}

TEST(OwnInputFiles, an_expected_link_never_made_expires_like_an_added_file) {
  OwnInputFiles own;
  const auto start = OwnInputFiles::Clock::now();
  own.expect("/in/gateway_1", "1.2.3.7", inode(41), start);
  own.expect("/in/gateway_1", "1.2.3.9", inode(43), start + OwnInputFiles::kKeep + 1s);
  EXPECT_EQ(own.size(), 1u);
  EXPECT_FALSE(own.claim("/in/gateway_1/1.2.3/1.2.3.7", inode(41)));
  EXPECT_TRUE(own.claim("/in/gateway_1/1.2.3/1.2.3.9", inode(43)));
}

}  // namespace
}  // namespace creni::ingest
