// The journal's group commit: which calls sync the WAL before they return, which leave it to the next synced
// commit, and what happens when the WAL cannot be synced.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "creni/journal/journal.hpp"
#include "harness.hpp"

namespace creni::journal {
namespace {

class JournalSync : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Journal::open(file_);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  static NewArrival arrival(int n) {
    NewArrival arrival;
    arrival.gateway_id = "1";
    arrival.source = Source::folder;
    arrival.input_path = "/in/gateway_1/" + std::to_string(n);
    arrival.sop_instance_uid = "1.2." + std::to_string(n);
    arrival.content_hash = "hash-" + std::to_string(n);
    return arrival;
  }

  harness::TempDir dir_{"creni-journal-sync"};
  std::filesystem::path file_ = dir_ / "journal.db";
  std::unique_ptr<Journal> journal_;
};

TEST_F(JournalSync, a_change_syncs_the_wal_before_it_returns_and_a_read_does_not) {
  const std::uint64_t before = journal_->wal_syncs();
  ASSERT_TRUE(journal_->record_arrival(arrival(1)).ok());
  EXPECT_EQ(journal_->wal_syncs(), before + 1);
  ASSERT_TRUE(journal_->report().ok());
  ASSERT_TRUE(journal_->jobs_in_state(JobState::received, 10).ok());
  EXPECT_EQ(journal_->wal_syncs(), before + 1) << "reading has nothing to make durable";
  auto claimed = journal_->claim_next(2);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ(journal_->wal_syncs(), before + 2);
}

TEST_F(JournalSync, unsynced_arrivals_and_claims_leave_their_sync_to_the_next_change) {
  const std::uint64_t before = journal_->wal_syncs();
  ASSERT_TRUE(journal_->record_arrivals_unsynced({arrival(1), arrival(2)}).ok());
  auto claimed = journal_->claim_next_unsynced(2);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ(journal_->wal_syncs(), before);
  ASSERT_TRUE(journal_->mark_written((*claimed)->id, "/out/1.dcm", "2.25.1", {}).ok());
  EXPECT_EQ(journal_->wal_syncs(), before + 1);
}

TEST_F(JournalSync, changes_from_many_threads_all_land_with_at_most_one_sync_each) {
  constexpr int kThreads = 4;
  constexpr int kEach = 25;
  const std::uint64_t before = journal_->wal_syncs();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) EXPECT_TRUE(journal_->record_arrival(arrival(t * kEach + i)).ok());
    });
  }
  for (auto& thread : threads) thread.join();
  auto waiting = journal_->jobs_in_state(JobState::received, 1000);
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->size(), static_cast<std::size_t>(kThreads * kEach));
  EXPECT_LE(journal_->wal_syncs() - before, static_cast<std::uint64_t>(kThreads * kEach));
  EXPECT_GE(journal_->wal_syncs() - before, 1u);
}

// A sync that fails leaves commits visible that are perhaps not on disk: the process stops at once with exit code 3
// ("stopped on an internal error") and the reason, before the caller of the change gets an answer.
TEST_F(JournalSync, a_wal_that_cannot_be_synced_stops_the_process_with_exit_code_3_and_the_reason) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  ASSERT_TRUE(journal_->record_arrival(arrival(1)).ok());
  EXPECT_EXIT(
      {
        ::dup2(STDERR_FILENO, STDOUT_FILENO);  // the journal logs through spdlog's default logger (stdout) here
        // The WAL removed under the open journal (an operator's mistake, a broken volume): its sync cannot succeed.
        std::filesystem::remove(file_.string() + "-wal");
        (void)journal_->record_arrival(arrival(2));
        std::exit(0);  // not reached: the commit above must stop the process
      },
      ::testing::ExitedWithCode(3), "could not be synced");
}

}  // namespace
}  // namespace creni::journal
