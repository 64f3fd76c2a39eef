#include "creni/common/folder_syncer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "creni/common/atomic_file.hpp"
#include "harness.hpp"

namespace creni::fs {
namespace {

using namespace std::chrono_literals;

Status failed_sync() { return make_error("io_error", "fsync failed for /spool: Input/output error"); }

// The interleaving of the bug, step by step: tickets 1 and 2 are covered by an fsync that fails; ticket 3,
// requested while it ran, is covered by the next fsync, which succeeds before the first two callers look.
TEST(SyncTicketLedger, a_ticket_covered_by_a_failed_fsync_stays_failed_after_a_later_fsync_succeeds) {
  SyncTicketLedger ledger;
  const std::uint64_t first = ledger.request();
  const std::uint64_t second = ledger.request();
  const SyncTicketLedger::Range failing = ledger.begin();
  const std::uint64_t third = ledger.request();
  ledger.complete(failing, failed_sync());
  const SyncTicketLedger::Range succeeding = ledger.begin();
  ledger.complete(succeeding, Status{});

  for (const std::uint64_t ticket : {first, second}) {
    const Status result = ledger.result_for(ticket);
    ASSERT_FALSE(result.ok()) << "ticket " << ticket << " took the result of a later fsync that did not cover it";
    EXPECT_EQ(result.error().code, "io_error");
    EXPECT_EQ(result.error().message, "fsync failed for /spool: Input/output error");
  }
  EXPECT_TRUE(ledger.result_for(third).ok()) << "a failure is not sticky: the next fsync covers the next caller";
}

// A disk that keeps failing under constant load never lets the folder run out of callers: a failed range must go
// once its callers have their answer, or the ledger would grow by one range per failed fsync.
TEST(SyncTicketLedger, a_failed_range_is_dropped_once_every_caller_it_covered_has_its_result) {
  SyncTicketLedger ledger;
  for (int round = 0; round < 100; ++round) {
    const std::uint64_t first = ledger.request();
    const std::uint64_t second = ledger.request();
    const std::uint64_t waiting = ledger.request();  // a caller of the next fsync, still in the folder
    const SyncTicketLedger::Range failing = ledger.begin();
    ledger.complete(failing, failed_sync());
    ASSERT_FALSE(ledger.result_for(first).ok());
    ledger.settle(first);
    EXPECT_EQ(ledger.failed_ranges(), 1U) << "the second caller has not read its result yet";
    ASSERT_FALSE(ledger.result_for(second).ok());
    ledger.settle(second);
    ASSERT_FALSE(ledger.result_for(waiting).ok());
    ledger.settle(waiting);
    EXPECT_EQ(ledger.failed_ranges(), 0U) << "round " << round;
  }
}

TEST(SyncTicketLedger, each_fsync_covers_the_tickets_requested_since_the_previous_one_began) {
  SyncTicketLedger ledger;
  EXPECT_FALSE(ledger.running());
  const std::uint64_t first = ledger.request();
  const SyncTicketLedger::Range one = ledger.begin();
  EXPECT_TRUE(ledger.running());
  EXPECT_EQ(one.first, first);
  EXPECT_EQ(one.last, first);
  const std::uint64_t second = ledger.request();
  const std::uint64_t third = ledger.request();
  EXPECT_FALSE(ledger.covered(first)) << "covered only once the fsync has completed";
  ledger.complete(one, Status{});
  EXPECT_FALSE(ledger.running());
  EXPECT_TRUE(ledger.covered(first));
  EXPECT_FALSE(ledger.covered(second)) << "requested after the fsync began: it may have missed the entry";

  const SyncTicketLedger::Range two = ledger.begin();
  EXPECT_EQ(two.first, second);
  EXPECT_EQ(two.last, third);
  ledger.complete(two, Status{});
  EXPECT_TRUE(ledger.covered(third));
  EXPECT_TRUE(ledger.result_for(first).ok());
  EXPECT_TRUE(ledger.result_for(third).ok());
}

TEST(SyncTicketLedger, a_ticket_not_yet_covered_has_no_success_to_report) {
  SyncTicketLedger ledger;
  const std::uint64_t ticket = ledger.request();
  const SyncTicketLedger::Range range = ledger.begin();
  EXPECT_FALSE(ledger.result_for(ticket).ok()) << "the fsync is still running";
  ledger.complete(range, Status{});
  EXPECT_TRUE(ledger.result_for(ticket).ok());
  EXPECT_FALSE(ledger.result_for(ledger.request()).ok()) << "requested after the last fsync began";
}

// An fsync stand-in that the test steps through: call n (counting from 1) returns results[n-1], once the test has
// released n calls. A call that is never released gives up after 10 s, so that a failing test cannot hang.
class SteppedSync {
 public:
  explicit SteppedSync(std::vector<Status> results) : results_(std::move(results)) {}

  Status operator()(const std::filesystem::path& /*directory*/) {
    std::unique_lock lock(mutex_);
    const std::size_t call = ++started_;
    changed_.notify_all();
    if (!changed_.wait_for(lock, 10s, [&] { return released_ >= call; })) {
      return make_error("test", "fsync " + std::to_string(call) + " was never released");
    }
    if (call > results_.size()) return make_error("test", "unexpected fsync " + std::to_string(call));
    return results_[call - 1];
  }

  /// Waits until `calls` fsyncs have started; false after 10 s.
  [[nodiscard]] bool wait_started(std::size_t calls) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 10s, [&] { return started_ >= calls; });
  }
  void release(std::size_t calls) {
    const std::lock_guard lock(mutex_);
    released_ = calls;
    changed_.notify_all();
  }
  [[nodiscard]] std::size_t started() const {
    const std::lock_guard lock(mutex_);
    return started_;
  }

 private:
  std::vector<Status> results_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t started_ = 0;
  std::size_t released_ = 0;
};

// A thread inside FolderSyncer::sync(directory); the destructor joins it.
class Caller {
 public:
  Caller(FolderSyncer& syncer, const std::filesystem::path& directory)
      : thread_([this, &syncer, directory] { result_ = syncer.sync(directory); }) {}
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;
  ~Caller() {
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] Status result() {
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  Status result_;
  std::thread thread_;
};

const std::filesystem::path kFolder = "/spool";

bool callers_reach(const FolderSyncer& syncer, int count) {
  return harness::wait_until([&] { return syncer.callers(kFolder) == count; }, 10s);
}

TEST(FolderSyncer, callers_that_ask_while_an_fsync_runs_share_the_next_one) {
  SteppedSync stepped({Status{}, Status{}});
  FolderSyncer syncer([&](const std::filesystem::path& directory) { return stepped(directory); });
  auto first = std::make_unique<Caller>(syncer, kFolder);
  ASSERT_TRUE(stepped.wait_started(1));
  std::vector<std::unique_ptr<Caller>> waiting;
  for (int i = 0; i < 5; ++i) waiting.push_back(std::make_unique<Caller>(syncer, kFolder));
  ASSERT_TRUE(callers_reach(syncer, 6));
  stepped.release(2);
  EXPECT_TRUE(first->result().ok());
  for (auto& caller : waiting) EXPECT_TRUE(caller->result().ok());
  EXPECT_EQ(stepped.started(), 2u) << "five callers waiting behind one fsync need one more, not five";
  EXPECT_EQ(syncer.callers(kFolder), 0) << "the folder is forgotten once its last caller has left";
}

// A succeeds; B and C ask while A's fsync runs and share the next one, which fails; D asks while that one runs and
// gets an fsync of its own, which succeeds. B and C see the failure, D its success.
TEST(FolderSyncer, a_failed_fsync_fails_every_caller_it_covered_and_the_next_caller_syncs_anew) {
  SteppedSync stepped({Status{}, failed_sync(), Status{}});
  FolderSyncer syncer([&](const std::filesystem::path& directory) { return stepped(directory); });
  Caller a(syncer, kFolder);
  ASSERT_TRUE(stepped.wait_started(1));
  Caller b(syncer, kFolder);
  Caller c(syncer, kFolder);
  ASSERT_TRUE(callers_reach(syncer, 3));
  stepped.release(1);
  EXPECT_TRUE(a.result().ok());
  ASSERT_TRUE(stepped.wait_started(2));
  Caller d(syncer, kFolder);
  ASSERT_TRUE(callers_reach(syncer, 3));
  stepped.release(3);
  for (Caller* covered : {&b, &c}) {
    const Status result = covered->result();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().code, "io_error");
  }
  EXPECT_TRUE(d.result().ok());
  EXPECT_EQ(stepped.started(), 3u);
}

class FolderSyncerOnDisk : public ::testing::Test {
 protected:
  harness::TempDir dir_{"creni-folder-syncer"};
};

TEST_F(FolderSyncerOnDisk, a_commit_can_leave_the_folder_sync_to_a_shared_syncer) {
  FolderSyncer syncer;
  std::vector<std::thread> writers;
  std::atomic<int> synced{0};
  for (int i = 0; i < 8; ++i) {
    writers.emplace_back([&, i] {
      const auto target = dir_ / ("r" + std::to_string(i) + ".dcm");
      const auto temp = temp_path_for(target);
      { std::ofstream(temp) << "result " << i; }
      if (commit_file(temp, target, FolderSync::by_caller).ok() && syncer.sync(dir_.path()).ok()) synced.fetch_add(1);
    });
  }
  for (auto& writer : writers) writer.join();
  EXPECT_EQ(synced.load(), 8);
  for (int i = 0; i < 8; ++i) {
    std::ifstream in(dir_ / ("r" + std::to_string(i) + ".dcm"));
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "result " + std::to_string(i));
  }
}

TEST_F(FolderSyncerOnDisk, a_folder_that_cannot_be_synced_is_an_io_error_for_each_caller) {
  FolderSyncer syncer;
  for (int i = 0; i < 2; ++i) {
    const Status status = syncer.sync(dir_ / "gone");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code, "io_error");
  }
  EXPECT_TRUE(syncer.sync(dir_.path()).ok());
}

}  // namespace
}  // namespace creni::fs
