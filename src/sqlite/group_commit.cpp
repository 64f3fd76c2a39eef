#include "creni/sqlite/group_commit.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "creni/common/atomic_file.hpp"

namespace creni::sqlite {

namespace {

Error io_error(const std::string& what, const std::filesystem::path& path) {
  return Error{"io_error", what + " " + path.string() + ": " + std::strerror(errno)};
}

}  // namespace

SyncGroup::SyncGroup(SyncFunction sync) : sync_(std::move(sync)) {}

std::uint64_t SyncGroup::ticket() {
  const std::lock_guard lock(mutex_);
  return ++issued_;
}

Status SyncGroup::sync_through(std::uint64_t ticket) {
  std::unique_lock lock(mutex_);
  while (true) {
    if (failed_) return *failed_;
    if (synced_ >= ticket) return {};
    if (syncing_) {
      // A sync in progress may have begun before this ticket's writes: wait for it, then look again (the next one
      // covers this ticket, and whoever finds no sync running starts it).
      sync_ended_.wait(lock);
      continue;
    }
    syncing_ = true;
    const std::uint64_t covers = issued_;  // every ticket issued so far was for writes already complete
    lock.unlock();
    Status synced = sync_();
    lock.lock();
    syncing_ = false;
    ++syncs_;
    if (synced) {
      synced_ = std::max(synced_, covers);
    } else {
      failed_ = synced.error();
    }
    sync_ended_.notify_all();
  }
}

std::uint64_t SyncGroup::syncs() const {
  const std::lock_guard lock(mutex_);
  return syncs_;
}

WalFileSync::WalFileSync(std::filesystem::path wal_file) : wal_file_(std::move(wal_file)) {}

Status WalFileSync::operator()() {
  struct stat at_path {};
  if (::stat(wal_file_.c_str(), &at_path) != 0) return io_error("cannot stat", wal_file_);
  if (!fd_.valid() || at_path.st_dev != device_ || at_path.st_ino != inode_) {
    if (Status opened = reopen(); !opened) return opened;
  }
  if (::fdatasync(fd_.get()) != 0) return io_error("cannot sync", wal_file_);
  return {};
}

Status WalFileSync::reopen() {
  fs::OwnedFd fd(::open(wal_file_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open", wal_file_);
  struct stat opened {};
  if (::fstat(fd.get(), &opened) != 0) return io_error("cannot stat", wal_file_);
  // A WAL made since the folder was last synced has a name that a power cut could still take away.
  if (Status named = fs::sync_directory(wal_file_.parent_path()); !named) return named;
  fd_ = std::move(fd);
  device_ = opened.st_dev;
  inode_ = opened.st_ino;
  return {};
}

GroupCommitMutex::GroupCommitMutex(Connection& connection, const std::filesystem::path& database_file,
                                   std::function<void(const Error&)> on_sync_failure)
    : GroupCommitMutex(connection,
                       [wal = std::make_shared<WalFileSync>(database_file.string() + "-wal")] { return (*wal)(); },
                       std::move(on_sync_failure)) {}

GroupCommitMutex::GroupCommitMutex(Connection& connection, SyncGroup::SyncFunction sync,
                                   std::function<void(const Error&)> on_sync_failure)
    : connection_(connection), group_(std::move(sync)), on_sync_failure_(std::move(on_sync_failure)) {
  sqlite3_commit_hook(connection_.handle(), &GroupCommitMutex::on_commit, this);
}

GroupCommitMutex::~GroupCommitMutex() { sqlite3_commit_hook(connection_.handle(), nullptr, nullptr); }

int GroupCommitMutex::on_commit(void* self) {
  // Runs inside COMMIT, on the thread that holds the lock. The commit is not written yet (and may still fail): the
  // ticket is taken in unlock(), when it is.
  static_cast<GroupCommitMutex*>(self)->committed_ = true;
  return 0;  // go ahead with the commit
}

void GroupCommitMutex::lock() { mutex_.lock(); }

void GroupCommitMutex::skip_sync() { skip_sync_ = true; }

void GroupCommitMutex::unlock() {
  const bool needs_sync = committed_ && !skip_sync_;
  committed_ = false;
  skip_sync_ = false;
  // Still under the lock: every COMMIT of this holder has returned, so its frames are in the WAL.
  const std::uint64_t ticket = needs_sync ? group_.ticket() : 0;
  mutex_.unlock();
  if (!needs_sync) return;
  if (Status synced = group_.sync_through(ticket); !synced) on_sync_failure_(synced.error());
}

}  // namespace creni::sqlite
