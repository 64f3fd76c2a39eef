#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

namespace creni::ingest {

/// Empty spool files whose names are already durable, so that a C-STORE needs no fsync of the spool folder: one
/// thread ("spool-pool") creates them in batches (O_EXCL, O_NOFOLLOW, names unique as SpoolFile's) and makes each
/// batch's entries durable with one fsync of the folder, ahead of use. A folder sync costs as much as the image's own
/// sync on these disks, so taking it off the acknowledgement path halves the syncs an image waits for. When the
/// pool is empty (the first images, a burst, a folder that cannot be synced) take() creates a file on the spot and
/// says so: its caller then syncs the folder itself. Unused files are removed by stop(); files left by a crash are
/// empty and have no journal row, so the next start removes them. Thread-safe.
class SpoolPool {
 public:
  struct Taken {
    std::filesystem::path path;  ///< an existing empty file; empty path: none could be created
    bool name_durable = false;   ///< the folder entry was synced already
  };

  /// Keeps between `batch` / 2 and `batch` ready files once started.
  explicit SpoolPool(std::filesystem::path spool_dir, std::size_t batch = 16);
  ~SpoolPool();
  SpoolPool(const SpoolPool&) = delete;
  SpoolPool& operator=(const SpoolPool&) = delete;

  void start();
  /// Joins the thread and removes the files nobody took. Idempotent.
  void stop();

  /// A ready file (name durable), else a file created now (name not yet durable). The file is the caller's.
  [[nodiscard]] Taken take();

 private:
  void run();
  // Creates up to `count` files, syncs the folder once and adds them to ready_; false when that failed.
  bool refill(std::size_t count);

  const std::filesystem::path spool_dir_;
  const std::size_t batch_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::filesystem::path> ready_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::thread thread_;
};

/// Creates a new spool file named uniquely (time, process id, counter; nothing from a peer) with O_EXCL and
/// O_NOFOLLOW, so the name never belongs to an existing file or link. Empty path when it cannot be created.
[[nodiscard]] std::filesystem::path create_spool_file(const std::filesystem::path& spool_dir);

}  // namespace creni::ingest
