#include "creni/series/completion.hpp"

#include <gtest/gtest.h>

namespace creni::series {
namespace {

constexpr std::int64_t kNow = 1'000'000'000;

journal::SeriesRecord open_run(std::int64_t first_ago_ms, std::int64_t last_ago_ms) {
  journal::SeriesRecord run;
  run.received = 2;
  run.first_arrival_ms = kNow - first_ago_ms;
  run.last_arrival_ms = kNow - last_ago_ms;
  return run;
}

config::SeriesConfig timers(double idle_s, double max_wait_s) {
  config::SeriesConfig config;
  config.enabled = true;
  config.idle_s = idle_s;
  config.max_wait_s = max_wait_s;
  return config;
}

TEST(Completion, nothing_holds_while_instances_keep_coming_within_idle_and_max_wait) {
  EXPECT_FALSE(completion_signal(open_run(4000, 1000), timers(5, 600), kNow));
}

TEST(Completion, the_expected_count_reached_wins_over_everything_else) {
  auto run = open_run(700'000, 10'000);
  run.expected = 2;
  EXPECT_EQ(completion_signal(run, timers(5, 600), kNow), "expected_count");
  run.expected = 3;
  EXPECT_EQ(completion_signal(run, timers(5, 600), kNow), "idle");
}

TEST(Completion, release_needs_the_setting_an_ended_association_and_nothing_of_it_waiting) {
  auto run = open_run(1000, 1000);
  run.association_ended = true;
  auto config = timers(5, 600);
  EXPECT_FALSE(completion_signal(run, config, kNow)) << "complete_on_release is off";
  config.complete_on_release = true;
  EXPECT_EQ(completion_signal(run, config, kNow), "release");
  run.association_pending = 1;
  EXPECT_FALSE(completion_signal(run, config, kNow)) << "an instance of that association is not processed yet";
  run.association_pending = 0;
  run.association_ended = false;
  EXPECT_FALSE(completion_signal(run, config, kNow));
}

TEST(Completion, idle_then_max_wait_from_the_stored_times) {
  EXPECT_EQ(completion_signal(open_run(6000, 5000), timers(5, 600), kNow), "idle");
  EXPECT_EQ(completion_signal(open_run(601'000, 1000), timers(5, 600), kNow), "max_wait");
}

TEST(Completion, a_clock_set_back_before_the_last_instance_counts_as_idle) {
  EXPECT_EQ(completion_signal(open_run(-5000, -5000), timers(5, 600), kNow), "idle");
}

}  // namespace
}  // namespace creni::series
