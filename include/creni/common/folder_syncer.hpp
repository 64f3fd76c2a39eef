#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>

#include "creni/common/result.hpp"

namespace creni::fs {

/// fsync of directories shared between threads: a caller whose rename is done asks for its folder to be synced;
/// an fsync that starts after the request covers it, so renames that finish together share one fsync instead of
/// queueing one each. Thread-safe.
class FolderSyncer {
 public:
  /// Returns once an fsync of `directory` that started after this call began has completed (its result).
  [[nodiscard]] Status sync(const std::filesystem::path& directory);

 private:
  struct Folder {
    std::uint64_t requested = 0;  // tickets handed out
    std::uint64_t covered = 0;    // tickets covered by the last completed fsync
    bool running = false;
    int users = 0;                // callers inside sync() for this folder
    Status last;
  };
  std::mutex mutex_;
  std::condition_variable done_;
  std::map<std::filesystem::path, Folder> folders_;
};

}  // namespace creni::fs
