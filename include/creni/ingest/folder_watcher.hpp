#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/ingest/arrival_sink.hpp"
#include "creni/ingest/files_not_taken.hpp"
#include "creni/ingest/own_input_files.hpp"

namespace creni::ingest {

/// What the folder door watches and when it takes a file.
struct FolderWatcherOptions {
  std::filesystem::path input_root;           ///< INPUT: gateways live in <input_root>/gateway_<id>/
  std::vector<std::string> gateway_ids;       ///< configured gateways (their folders are created)
  bool discover_gateways = true;              ///< also take gateway_<id>/ folders not listed above
  int settle_ms = 20;                         ///< quiet time after a close-after-write (none after a move-in)
  int stability_ms = 1000;                    ///< quiet time for files found by scanning only
  int rescan_interval_s = 30;                 ///< full rescan period (missed events, no inotify)
  std::shared_ptr<OwnInputFiles> own_files;   ///< files the node placed here itself: not handed over; may be null
};

/// The folder door: watches INPUT/gateway_<id>/ recursively (inotify close-write and moved-to, a rescan at start,
/// periodically and after a queue overflow) and hands every complete candidate file to the ArrivalSink once.
/// A file is complete when no writer is known to have it open (created or modified without a close since) and it
/// has not been modified for settle_ms (after an event) or stability_ms (found by scanning), and no process has it
/// open for writing (checked with a read lease where the file system and ownership allow it). Temporary and hidden
/// names and image.db are not images. Every other file seen and not taken (in INPUT itself, in a folder not named
/// gateway_<id>, FIFOs, devices and sockets, paths too long, unreadable files) is logged once with its reason and
/// counted (files_not_taken()); FIFOs are never opened. Symbolic links are handed over too, so that the sink
/// records them as rejected ("symlink") instead of silently skipping them.
/// Owns one thread ("folder-watcher"); start()/stop() from one thread; stop() is idempotent and joins.
class FolderWatcher {
 public:
  /// `intake_paused` is polled before each file is handed over (disk low-watermark); files wait while it is true.
  FolderWatcher(FolderWatcherOptions options, ArrivalSink& sink, std::function<bool()> intake_paused = {});
  ~FolderWatcher();
  FolderWatcher(const FolderWatcher&) = delete;
  FolderWatcher& operator=(const FolderWatcher&) = delete;

  /// Creates the configured gateway folders and starts watching. Error "io_error" when INPUT is unusable.
  [[nodiscard]] Status start();
  void stop();

  /// Files handed to the sink so far (for status and tests).
  [[nodiscard]] std::uint64_t files_handed_over() const { return handed_over_.load(); }
  /// Files seen and not taken, by reason (for status and tests).
  [[nodiscard]] const FilesNotTaken& files_not_taken() const { return not_taken_; }

 private:
  class WatchLoop;

  FolderWatcherOptions options_;
  ArrivalSink& sink_;
  std::function<bool()> intake_paused_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> handed_over_{0};
  FilesNotTaken not_taken_;
  int stop_event_fd_ = -1;
  std::unique_ptr<WatchLoop> loop_;
  std::thread thread_;
};

/// The gateway id of `directory_name` when it is "gateway_<id>" with a valid id, else "".
[[nodiscard]] std::string gateway_id_of_folder(const std::string& directory_name);

}  // namespace creni::ingest
