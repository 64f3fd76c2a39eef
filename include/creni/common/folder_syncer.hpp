#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::fs {

/// The bookkeeping of the shared fsyncs of one folder, without threads or file system, so that every interleaving
/// can be driven step by step. A caller whose change in the folder is done takes a ticket; an fsync that starts
/// later covers it. Each fsync covers the tickets handed out since the previous one started, so the fsyncs cover
/// contiguous, disjoint ranges in order, and each ticket's result is the result of the one fsync that covered it,
/// never that of a later one: a later fsync that succeeds says nothing about an entry whose fsync failed.
///
/// A failure is not sticky (unlike sqlite::SyncGroup, which guards one file whose unsynced pages the kernel may
/// have dropped): the next caller's fsync may succeed and then covers that caller. A failed range is kept until
/// every ticket in it has been settled (its caller read its result), so that a disk failing under constant load,
/// where the folder never runs out of callers, does not grow the ledger. Not thread-safe: FolderSyncer holds its
/// lock around every call.
class SyncTicketLedger {
 public:
  /// The tickets one fsync covers, `first` to `last` inclusive.
  struct Range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
  };

  /// A ticket for a caller whose rename or new entry in the folder is complete.
  [[nodiscard]] std::uint64_t request();
  /// Whether an fsync is running (begun and not completed).
  [[nodiscard]] bool running() const { return running_; }
  /// Whether a completed fsync covered `ticket`.
  [[nodiscard]] bool covered(std::uint64_t ticket) const { return ticket <= covered_; }
  /// An fsync starts now: it covers every ticket handed out that no earlier fsync covered. Only when none is
  /// running and at least one ticket is not covered.
  [[nodiscard]] Range begin();
  /// The fsync that covers `range` (from begin()) ended with `synced`.
  void complete(Range range, const Status& synced);
  /// The result of the fsync that covered `ticket`; an error as well for a ticket not covered yet.
  [[nodiscard]] Status result_for(std::uint64_t ticket) const;
  /// The caller of `ticket` has its result: once all tickets of a failed range are settled, the range is dropped.
  void settle(std::uint64_t ticket);
  /// Failed ranges still kept (some of their tickets not settled).
  [[nodiscard]] std::size_t failed_ranges() const { return failures_.size(); }

 private:
  struct FailedRange {
    Range range;
    Error error;
    std::uint64_t unsettled = 0;  // tickets of the range whose callers have not read the result yet
  };
  std::uint64_t requested_ = 0;  // the last ticket handed out
  std::uint64_t covered_ = 0;    // every ticket up to this one is covered by a completed fsync
  bool running_ = false;
  std::vector<FailedRange> failures_;
};

/// fsync of directories shared between threads: a caller whose rename or new entry is done asks for its folder to
/// be synced; an fsync that starts after the request covers it, so renames that finish together share one fsync
/// instead of queueing one each. Each caller gets the result of the fsync that covered its request (a failure
/// for everyone it covered, even when a later fsync of the folder has succeeded by the time the caller looks), and
/// the next request after a failure is synced anew. The SCP answers 0xA700 for a spool file whose folder could not
/// be synced (RELIABILITY D3). Thread-safe.
class FolderSyncer {
 public:
  using SyncFunction = std::function<Status(const std::filesystem::path&)>;
  /// Syncs with sync_directory().
  FolderSyncer();
  /// For tests: `sync` instead of sync_directory(); called without the lock held, one call per folder at a time.
  explicit FolderSyncer(SyncFunction sync);
  FolderSyncer(const FolderSyncer&) = delete;
  FolderSyncer& operator=(const FolderSyncer&) = delete;

  /// Returns once an fsync of `directory` that started after this call began has completed, with its result.
  [[nodiscard]] Status sync(const std::filesystem::path& directory);
  /// How many callers are inside sync() for `directory`, for tests.
  [[nodiscard]] int callers(const std::filesystem::path& directory) const;

 private:
  struct Folder {
    SyncTicketLedger tickets;
    int users = 0;  // callers inside sync() for this folder
  };
  SyncFunction sync_;
  mutable std::mutex mutex_;
  std::condition_variable done_;
  std::map<std::filesystem::path, Folder> folders_;
};

}  // namespace creni::fs
