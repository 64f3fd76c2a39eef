#pragma once

// Private to the folder door: the state of FolderWatcher's thread and the facts about one file that its parts
// share. The loop's work is split by concern: inotify and the poll loop (folder_watch_events.cpp), listing and
// rescanning folders (folder_watch_scan.cpp), deciding when a file is complete (folder_watch_stability.cpp) and
// handing complete files to the sink (folder_watch_hand_over.cpp); lstat of one path is folder_watch_file_stamp.cpp.

#include <spdlog/spdlog.h>
#include <sys/inotify.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "creni/ingest/folder_watcher.hpp"
#include "creni/ingest/own_input_files.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

namespace detail {

using Clock = std::chrono::steady_clock;

// A file created or modified without a close since is assumed open for writing; after this long without any
// event it is treated as scanned (a hard link, for example, is created without ever being opened).
constexpr auto kOpenForWriteExpiry = std::chrono::minutes(5);
constexpr auto kRetryAfterRefusal = std::chrono::seconds(1);

struct FileStamp {
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  bool is_symlink = false;
  bool is_extra_link = false;  // a second name of an existing file (a hard link): created complete, never written
  OwnInputFiles::FileIdentity identity;  // not compared: what the node's own mirror of an SCP arrival is known by
  bool operator==(const FileStamp& o) const { return size == o.size && mtime_ns == o.mtime_ns && is_symlink == o.is_symlink; }
};

// What lstat says about a path the watcher considers.
enum class Kind { gone, regular_or_link, other, too_long };

Kind stamp_of(const std::string& path, FileStamp& stamp);

bool stamp_of_file(const std::string& path, FileStamp& stamp);

struct Candidate {
  std::string gateway_id;
  FileStamp stamp;
  Clock::time_point quiet_since;
  Clock::time_point not_before;
  bool evented = false;
  // Renamed into place (IN_MOVED_TO of the file itself): a rename is atomic, so the file is complete the moment it
  // appears. It is taken without a quiet window; the lease check still stops a writer that has it open.
  bool moved_in = false;
};

}  // namespace detail

// All state of the watcher; touched only by the watcher thread once start() has returned.
class FolderWatcher::WatchLoop {
 public:
  WatchLoop(const FolderWatcherOptions& options, ArrivalSink& sink, const std::function<bool()>& intake_paused,
            std::atomic<std::uint64_t>& handed_over, FilesNotTaken& not_taken)
      : options_(options), sink_(sink), intake_paused_(intake_paused), handed_over_(handed_over),
        not_taken_(not_taken) {}

  ~WatchLoop();

  // Runs on the caller's thread before the loop starts, so that every event after start() returns is seen.
  void initialize();

  void run(const std::atomic<bool>& stopping, int stop_fd);

 private:
  using Clock = detail::Clock;
  using FileStamp = detail::FileStamp;
  using Candidate = detail::Candidate;

  // folder_watch_events.cpp: inotify and the poll loop.
  int poll_timeout_ms(Clock::time_point next_rescan) const;
  void add_watch(const std::filesystem::path& directory);
  void watch_root();
  void read_events();
  void handle(const inotify_event& event);

  // folder_watch_scan.cpp: which gateway a path belongs to, listing and rescanning folders.
  bool gateway_wanted(const std::string& id) const;
  // The gateway a path belongs to: the first component below INPUT, or "" when outside any gateway folder.
  std::string gateway_of(const std::filesystem::path& path) const;
  // Why a path outside every wanted gateway folder is not taken.
  std::string_view outside_reason(const std::filesystem::path& path) const;
  void watch_tree(const std::filesystem::path& directory, bool evented);
  void scan_some(std::size_t budget);
  void rescan();
  void report_outside(const std::filesystem::path& path);
  void report_if_special_index(const std::filesystem::path& path);
  void report_outside_folder(const std::filesystem::path& folder);

  // folder_watch_stability.cpp: when a candidate is complete.
  // How long a candidate must stay unmodified before it is taken.
  std::chrono::milliseconds quiet_window(const Candidate& candidate) const;
  void consider(const std::filesystem::path& path, bool evented, bool moved_in = false);
  bool still_being_written(const std::string& key, Clock::time_point now);
  // Candidates complete now (up to batch_limit_), as arrivals with their keys in `ready`, in the same order.
  std::vector<Arrival> collect_ready(const std::atomic<bool>& stopping, Clock::time_point now,
                                     std::vector<std::string>& ready);

  // folder_watch_hand_over.cpp: complete files to the sink.
  void take_ready_files(const std::atomic<bool>& stopping);

  const FolderWatcherOptions& options_;
  ArrivalSink& sink_;
  const std::function<bool()>& intake_paused_;
  std::atomic<std::uint64_t>& handed_over_;
  FilesNotTaken& not_taken_;
  int inotify_fd_ = -1;
  std::unordered_map<int, std::filesystem::path> watched_;
  std::unordered_map<std::string, Candidate> candidates_;
  std::unordered_map<std::string, Clock::time_point> open_for_write_;
  std::unordered_map<std::string, FileStamp> taken_;
  std::unordered_set<std::string> other_gateways_;  // gateway folders of other nodes, said once
  std::size_t batch_limit_ = 1;
  struct PendingScan {
    std::filesystem::path folder;
    bool evented = false;  // moved or created in after start: its files are complete once listed
  };
  std::deque<PendingScan> pending_scans_;
  std::optional<std::filesystem::directory_iterator> scanning_;  // inside pending_scans_.front()
};

}  // namespace creni::ingest
