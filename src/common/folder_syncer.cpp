#include "creni/common/folder_syncer.hpp"

#include <utility>

#include "creni/common/atomic_file.hpp"

namespace creni::fs {

Status FolderSyncer::sync(const std::filesystem::path& directory) {
  std::unique_lock lock(mutex_);
  const auto entry = folders_.try_emplace(directory).first;
  Folder& folder = entry->second;
  ++folder.users;
  const std::uint64_t ticket = ++folder.requested;
  while (folder.covered < ticket) {
    if (folder.running) {
      done_.wait(lock);
      continue;
    }
    // Every ticket handed out so far belongs to a rename that is already done: this fsync covers them all.
    folder.running = true;
    const std::uint64_t covers = folder.requested;
    lock.unlock();
    Status synced = sync_directory(directory);
    lock.lock();
    folder.running = false;
    folder.covered = covers;
    folder.last = std::move(synced);
    done_.notify_all();
  }
  Status result = folder.last;
  // Study folders come and go: the last user forgets a folder, so that the map stays as small as the work in flight.
  if (--folder.users == 0) folders_.erase(entry);
  return result;
}

}  // namespace creni::fs
