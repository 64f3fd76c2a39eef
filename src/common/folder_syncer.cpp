#include "creni/common/folder_syncer.hpp"

#include <string>
#include <utility>

#include "creni/common/atomic_file.hpp"

namespace creni::fs {

std::uint64_t SyncTicketLedger::request() { return ++requested_; }

SyncTicketLedger::Range SyncTicketLedger::begin() {
  running_ = true;
  Range range;
  range.first = covered_ + 1;
  range.last = requested_;
  return range;
}

void SyncTicketLedger::complete(Range range, const Status& synced) {
  running_ = false;
  covered_ = range.last;
  if (!synced) {
    FailedRange failed;
    failed.range = range;
    failed.error = synced.error();
    failed.unsettled = range.last - range.first + 1;
    failures_.push_back(std::move(failed));
  }
}

Status SyncTicketLedger::result_for(std::uint64_t ticket) const {
  if (!covered(ticket)) {
    return make_error("io_error", "no completed fsync of the folder covers request " + std::to_string(ticket));
  }
  for (const FailedRange& failed : failures_) {
    if (failed.range.first <= ticket && ticket <= failed.range.last) return failed.error;
  }
  return {};
}

void SyncTicketLedger::settle(std::uint64_t ticket) {
  for (auto failed = failures_.begin(); failed != failures_.end(); ++failed) {
    if (failed->range.first <= ticket && ticket <= failed->range.last) {
      if (--failed->unsettled == 0) failures_.erase(failed);
      return;
    }
  }
}

FolderSyncer::FolderSyncer() : FolderSyncer(sync_directory) {}

FolderSyncer::FolderSyncer(SyncFunction sync) : sync_(std::move(sync)) {}

Status FolderSyncer::sync(const std::filesystem::path& directory) {
  std::unique_lock lock(mutex_);
  const auto entry = folders_.try_emplace(directory).first;
  Folder& folder = entry->second;
  ++folder.users;
  const std::uint64_t ticket = folder.tickets.request();
  while (!folder.tickets.covered(ticket)) {
    if (folder.tickets.running()) {
      done_.wait(lock);
      continue;
    }
    // Every ticket handed out so far belongs to a rename that is already done: this fsync covers them all.
    const SyncTicketLedger::Range range = folder.tickets.begin();
    lock.unlock();
    const Status synced = sync_(directory);
    lock.lock();
    folder.tickets.complete(range, synced);
    done_.notify_all();
  }
  // Not the latest result: by now a later fsync of the folder may have succeeded where the one covering us failed.
  Status result = folder.tickets.result_for(ticket);
  folder.tickets.settle(ticket);
  // Study folders come and go: the last user forgets a folder, so that the map stays as small as the work in flight.
  if (--folder.users == 0) folders_.erase(entry);
  return result;
}

int FolderSyncer::callers(const std::filesystem::path& directory) const {
  const std::lock_guard lock(mutex_);
  const auto entry = folders_.find(directory);
  return entry == folders_.end() ? 0 : entry->second.users;
}

}  // namespace creni::fs
