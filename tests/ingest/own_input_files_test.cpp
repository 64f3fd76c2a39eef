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
  EXPECT_TRUE(own.claim(mirror(1).string()));
  EXPECT_FALSE(own.claim(mirror(1).string()));
  own.add(mirror(3), start + OwnInputFiles::kKeep + 1s);  // the next addition after kKeep lets mirror(2) go
  EXPECT_FALSE(own.claim(mirror(2).string()));
  EXPECT_TRUE(own.claim(mirror(3).string()));
  EXPECT_EQ(own.size(), 0u);
}

}  // namespace
}  // namespace creni::ingest
