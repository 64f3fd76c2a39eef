// Claim order (issue 13, fairness): fresh work before retries of failing jobs, and gateways served in turn, so a
// poison input or one busy gateway never holds up everyone else.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "creni/journal/journal.hpp"
#include "harness.hpp"

namespace creni::journal {
namespace {

class ClaimOrder : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Journal::open(dir_ / "journal.db");
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  std::int64_t arrive(const std::string& gateway, const std::string& name) {
    NewArrival arrival;
    arrival.gateway_id = gateway;
    arrival.source = Source::folder;
    arrival.input_path = "/in/gateway_" + gateway + "/" + name;
    arrival.sop_instance_uid = "1.2." + std::to_string(++counter_);
    arrival.content_hash = "hash-" + gateway + name;
    auto recorded = journal_->record_arrival(arrival);
    EXPECT_TRUE(recorded.ok());
    return recorded.ok() ? recorded->job_id : 0;
  }

  std::int64_t claim() {
    auto claimed = journal_->claim_next(2);
    EXPECT_TRUE(claimed.ok());
    return claimed.ok() && claimed->has_value() ? (*claimed)->id : 0;
  }

  std::string gateway_of_next_claim() {
    auto claimed = journal_->claim_next(2);
    EXPECT_TRUE(claimed.ok());
    return claimed.ok() && claimed->has_value() ? (*claimed)->gateway_id : "";
  }

  harness::TempDir dir_;
  std::unique_ptr<Journal> journal_;
  int counter_ = 0;
};

TEST_F(ClaimOrder, a_job_back_from_a_crashed_or_hung_worker_waits_behind_fresh_work) {
  const std::int64_t poison = arrive("1", "poison.dcm");
  const std::int64_t fresh_a = arrive("1", "a.dcm");
  const std::int64_t fresh_b = arrive("1", "b.dcm");
  ASSERT_EQ(claim(), poison);
  ASSERT_TRUE(journal_->return_to_received(poison, "worker_timeout", "job_timeout_s exceeded").ok());

  EXPECT_EQ(claim(), fresh_a);
  EXPECT_EQ(claim(), fresh_b);
  EXPECT_EQ(claim(), poison);  // its second attempt, once nothing fresh is waiting
  ASSERT_TRUE(journal_->return_to_received(poison, "worker_timeout", "job_timeout_s exceeded").ok());
  EXPECT_EQ(claim(), 0);  // two attempts spent: rejected as poison, nothing else to do
  auto rejected = journal_->find_job(poison);
  ASSERT_TRUE(rejected.ok() && rejected->has_value());
  EXPECT_EQ((*rejected)->state, JobState::rejected);
  EXPECT_EQ((*rejected)->reason, "poison");
}

TEST_F(ClaimOrder, gateways_are_served_in_turn_whatever_the_order_of_arrival) {
  for (int i = 0; i < 4; ++i) arrive("busy", "b" + std::to_string(i) + ".dcm");
  arrive("quiet", "q0.dcm");
  arrive("other", "o0.dcm");
  arrive("quiet", "q1.dcm");

  std::vector<std::string> order;
  for (int i = 0; i < 7; ++i) order.push_back(gateway_of_next_claim());
  EXPECT_EQ(order, (std::vector<std::string>{"busy", "quiet", "other", "busy", "quiet", "busy", "busy"}));
  EXPECT_EQ(gateway_of_next_claim(), "");
}

}  // namespace
}  // namespace creni::journal
