#include "creni/sqlite/group_commit.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "creni/sqlite/connection.hpp"
#include "harness.hpp"

namespace creni::sqlite {
namespace {

using namespace std::chrono_literals;

class GroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Connection::open(file_, OpenMode::read_write_create);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    db_.emplace(std::move(opened).value());
    ASSERT_TRUE(db_->enable_durable_wal().ok());
    ASSERT_TRUE(db_->exec("CREATE TABLE t(x INTEGER); PRAGMA synchronous=NORMAL").ok());
  }

  static void fail_on_sync_failure(const Error& error) { ADD_FAILURE() << "sync failed: " << error.describe(); }

  harness::TempDir dir_{"creni-group-commit"};
  std::filesystem::path file_ = dir_ / "test.db";
  std::optional<Connection> db_;
};

TEST_F(GroupCommit, a_commit_is_synced_before_unlock_returns_and_a_read_costs_no_sync) {
  int syncs = 0;
  GroupCommitMutex mutex(*db_, [&] { ++syncs; return Status{}; }, fail_on_sync_failure);
  {
    const std::lock_guard lock(mutex);
    ASSERT_TRUE(db_->exec("SELECT count(*) FROM t").ok());
  }
  EXPECT_EQ(syncs, 0) << "a read has nothing to make durable";
  {
    const std::lock_guard lock(mutex);
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)").ok());
    EXPECT_EQ(syncs, 0) << "the sync runs after the lock is released, not inside COMMIT";
  }
  EXPECT_EQ(syncs, 1);
  {
    const std::lock_guard lock(mutex);
    ASSERT_TRUE(db_->exec("BEGIN; INSERT INTO t VALUES (2); ROLLBACK").ok());
  }
  EXPECT_EQ(syncs, 1) << "a rolled-back transaction has nothing to make durable";
}

TEST_F(GroupCommit, commits_marked_skip_sync_wait_for_the_next_synced_commit) {
  int syncs = 0;
  GroupCommitMutex mutex(*db_, [&] { ++syncs; return Status{}; }, fail_on_sync_failure);
  {
    const std::lock_guard lock(mutex);
    mutex.skip_sync();
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)").ok());
  }
  EXPECT_EQ(syncs, 0);
  {
    const std::lock_guard lock(mutex);  // skip_sync lasts one hold only
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (2)").ok());
  }
  EXPECT_EQ(syncs, 1);
}

// Eight threads commit at once while each sync takes 50 ms: every thread leaves unlock() only after a sync that
// began after its commit was written has ended, and the eight share a few syncs instead of paying one each.
TEST_F(GroupCommit, concurrent_commits_share_syncs_and_each_waits_for_one_that_covers_it) {
  constexpr int kThreads = 8;
  std::mutex record;
  int written = 0;       // commits written so far (under the group-commit lock)
  int durable = 0;       // commits covered by a finished sync
  GroupCommitMutex mutex(
      *db_,
      [&] {
        int covers = 0;
        {
          const std::lock_guard lock(record);
          covers = written;
        }
        std::this_thread::sleep_for(50ms);
        const std::lock_guard lock(record);
        durable = std::max(durable, covers);
        return Status{};
      },
      fail_on_sync_failure);
  std::atomic<int> not_covered{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      int mine = 0;
      {
        const std::lock_guard lock(mutex);
        ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (" + std::to_string(i) + ")").ok());
        const std::lock_guard counted(record);
        mine = ++written;
      }
      const std::lock_guard counted(record);
      if (durable < mine) ++not_covered;
    });
  }
  go = true;
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(not_covered, 0) << "a thread left unlock() before its commit was synced";
  EXPECT_LE(mutex.syncs(), 4u) << "concurrent commits did not share their syncs";
  EXPECT_GE(mutex.syncs(), 1u);
}

TEST(SyncGroup, a_failed_sync_fails_every_later_wait_without_trying_again) {
  int attempts = 0;
  SyncGroup group([&] {
    ++attempts;
    return Status{make_error("io_error", "cannot sync: Input/output error")};
  });
  const Status first = group.sync_through(group.ticket());
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, "io_error");
  const Status later = group.sync_through(group.ticket());
  ASSERT_FALSE(later.ok()) << "a sync after a failed one proves nothing about the writes before it";
  EXPECT_EQ(attempts, 1);
}

TEST_F(GroupCommit, a_failed_sync_reaches_the_failure_handler_before_unlock_returns) {
  std::optional<Error> reported;
  GroupCommitMutex mutex(*db_, [] { return Status{make_error("io_error", "EIO")}; },
                         [&](const Error& error) { reported = error; });
  {
    const std::lock_guard lock(mutex);
    ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)").ok());
  }
  ASSERT_TRUE(reported.has_value());
  EXPECT_EQ(reported->message, "EIO");
}

TEST_F(GroupCommit, the_wal_sync_reports_a_missing_wal_file_and_syncs_one_made_anew) {
  WalFileSync sync(file_.string() + "-wal");
  ASSERT_TRUE(db_->exec("INSERT INTO t VALUES (1)").ok());
  EXPECT_TRUE(sync().ok());
  db_.reset();  // the last connection: SQLite checkpoints and removes the WAL
  ASSERT_FALSE(std::filesystem::exists(file_.string() + "-wal"));
  const Status missing = sync();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "io_error");
  EXPECT_NE(missing.error().message.find("test.db-wal"), std::string::npos) << missing.error().message;

  auto reopened = Connection::open(file_, OpenMode::read_write_create);
  ASSERT_TRUE(reopened.ok());
  ASSERT_TRUE(reopened->enable_durable_wal().ok());
  ASSERT_TRUE(reopened->exec("INSERT INTO t VALUES (2)").ok());
  EXPECT_TRUE(sync().ok()) << "the new WAL file was not opened";
}

}  // namespace
}  // namespace creni::sqlite
