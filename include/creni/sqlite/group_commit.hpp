#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

#include "creni/common/owned_fd.hpp"
#include "creni/common/result.hpp"
#include "creni/sqlite/connection.hpp"

namespace creni::sqlite {

/// Group commit over one file: a thread whose writes are complete takes a ticket, and sync_through(ticket) returns
/// once a sync that began after the ticket was issued has succeeded. While one thread syncs, the others wait, and
/// the next sync covers all of them: N threads committing at once pay about two syncs, not N.
///
/// After a failed sync every call fails with that error for good: the kernel may have dropped the unsynced pages
/// and marked them clean, so a later sync that succeeds would not prove that the earlier writes are on disk.
class SyncGroup {
 public:
  using SyncFunction = std::function<Status()>;
  explicit SyncGroup(SyncFunction sync);
  SyncGroup(const SyncGroup&) = delete;
  SyncGroup& operator=(const SyncGroup&) = delete;

  /// A ticket for the caller's writes, which must already be complete (in the file, not merely begun).
  [[nodiscard]] std::uint64_t ticket();
  /// Blocks until a sync begun after `ticket` was issued has succeeded; syncs itself when no other thread is.
  [[nodiscard]] Status sync_through(std::uint64_t ticket);
  /// How many syncs ran (succeeded or not), for tests and metrics.
  [[nodiscard]] std::uint64_t syncs() const;

 private:
  SyncFunction sync_;
  mutable std::mutex mutex_;
  std::condition_variable sync_ended_;
  std::uint64_t issued_ = 0;  // the last ticket handed out
  std::uint64_t synced_ = 0;  // every ticket up to this one is durable
  std::uint64_t syncs_ = 0;
  bool syncing_ = false;
  std::optional<Error> failed_;
};

/// fdatasync of a WAL database's `-wal` file through a descriptor of its own (SQLite's are not reachable). The
/// file is opened on first use, and again should the file at the path no longer be the one open (SQLite removes
/// the WAL when the last connection closes and makes a new one later); each (re)open also syncs the folder, so
/// that the file's name is as durable as its content. Not thread-safe: SyncGroup runs one sync at a time.
class WalFileSync {
 public:
  explicit WalFileSync(std::filesystem::path wal_file);
  [[nodiscard]] Status operator()();

 private:
  [[nodiscard]] Status reopen();
  std::filesystem::path wal_file_;
  fs::OwnedFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

/// The lock that serialises the users of one WAL connection and makes their commits durable with a shared sync.
///
/// Why: under synchronous=FULL each COMMIT syncs the WAL inside SQLite, so a connection shared by several threads
/// is held through every sync and the threads queue for one flush each. The connection runs instead with
/// synchronous=NORMAL (COMMIT writes the WAL and does not sync it; SQLite still syncs around checkpoints, so the
/// database stays consistent), and unlock() first releases the lock, then waits for one fdatasync of the WAL
/// begun after the holder's commits were written (SyncGroup). A thread leaves unlock() only when its commits are on
/// stable storage, as under FULL, while the next thread already commits and several commits share one flush.
///
/// A BasicLockable for std::lock_guard. Commits are noticed through the connection's commit hook, which this lock
/// owns while it lives (the connection must outlive it). When the sync fails the commits already visible are not
/// durable and nothing the holder does next may rely on them: `on_sync_failure` is called before unlock() returns
/// and must not return (the journal stops the process; see Journal::open).
class GroupCommitMutex {
 public:
  GroupCommitMutex(Connection& connection, const std::filesystem::path& database_file,
                   std::function<void(const Error&)> on_sync_failure);
  /// For tests: the sync is `sync` instead of an fdatasync of the WAL.
  GroupCommitMutex(Connection& connection, SyncGroup::SyncFunction sync,
                   std::function<void(const Error&)> on_sync_failure);
  ~GroupCommitMutex();
  GroupCommitMutex(const GroupCommitMutex&) = delete;
  GroupCommitMutex& operator=(const GroupCommitMutex&) = delete;

  void lock();
  void unlock();
  /// Only while locked: the current holder's commits need no sync of their own (they are durable by other means,
  /// and the next synced commit covers them, since the WAL is written and synced in order).
  void skip_sync();
  /// How many WAL syncs ran, for tests.
  [[nodiscard]] std::uint64_t syncs() const { return group_.syncs(); }

 private:
  static int on_commit(void* self);
  Connection& connection_;
  SyncGroup group_;
  std::function<void(const Error&)> on_sync_failure_;
  std::mutex mutex_;
  bool committed_ = false;  // by the current holder (guarded by mutex_)
  bool skip_sync_ = false;  // guarded by mutex_
};

}  // namespace creni::sqlite
