#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "creni/common/result.hpp"

namespace creni::app {

/// A flock held for the node's lifetime on a folder's lock: the file `<folder>/<file_name>`, or, with
/// an empty file name, the folder itself (nothing is created in it: INPUT belongs to the gateways). Two nodes on
/// one state folder or one INPUT would take, process and forward everything twice. The kernel drops the lock when
/// the process ends, however it ends, so a crash never leaves a stale lock behind.
class FolderLock {
 public:
  /// An exclusive lock, or a shared one (`shared`): shared locks coexist, an exclusive one excludes all others.
  /// Error "locked" naming the folder, `what` ("state folder", "input folder") and, when /proc/locks tells, the
  /// pid holding it; "io_error" when the lock cannot be opened.
  [[nodiscard]] static Result<std::unique_ptr<FolderLock>> acquire(const std::filesystem::path& folder,
                                                                   const std::string& file_name,
                                                                   const std::string& what, bool shared = false);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

 private:
  explicit FolderLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace creni::app
