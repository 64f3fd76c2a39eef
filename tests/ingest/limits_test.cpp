// Small parts of the network door's defences against hostile peers: per-peer shares and log throttling.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "../../src/ingest/log_throttle.hpp"
#include "../../src/ingest/peer_shares.hpp"

namespace creni::ingest {
namespace {

using namespace std::chrono_literals;

TEST(PeerShares, one_address_or_one_calling_ae_title_never_holds_more_than_its_share) {
  PeerShares shares(2);
  EXPECT_FALSE(shares.take("10.0.0.1", "A"));
  EXPECT_FALSE(shares.take("10.0.0.1", "B"));
  const auto by_address = shares.take("10.0.0.1", "C");
  ASSERT_TRUE(by_address);
  EXPECT_NE(by_address->find("from 10.0.0.1"), std::string::npos) << *by_address;
  EXPECT_FALSE(shares.take("10.0.0.2", "A"));  // A holds two now
  const auto by_ae = shares.take("10.0.0.3", "A");
  ASSERT_TRUE(by_ae);
  EXPECT_NE(by_ae->find("calling AE title"), std::string::npos) << *by_ae;

  shares.give_back("10.0.0.1", "A");
  EXPECT_FALSE(shares.take("10.0.0.3", "A"));
}

TEST(LogThrottle, writes_a_burst_per_kind_then_one_summary_of_what_it_suppressed) {
  std::ostringstream out;
  auto logger = std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  logger->set_pattern("%v");
  LogThrottle throttle(logger, 2, 10s);
  const auto start = LogThrottle::Clock::now();
  int written = 0;
  for (int i = 0; i < 50; ++i) written += throttle.admit("refused", start + std::chrono::milliseconds(i)) ? 1 : 0;
  EXPECT_EQ(written, 2);
  EXPECT_TRUE(throttle.admit("another kind", start));
  throttle.flush(start + 5s);
  EXPECT_EQ(out.str(), "");  // the interval is not over yet
  throttle.flush(start + 11s);
  EXPECT_EQ(out.str(), "suppressed 48 similar message(s) (refused) in the last 11 s\n");
  EXPECT_TRUE(throttle.admit("refused", start + 12s));  // a new interval
}

}  // namespace
}  // namespace creni::ingest
