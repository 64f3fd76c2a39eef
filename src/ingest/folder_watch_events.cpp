// The folder watcher's poll loop and its inotify mechanics: which folders are watched, how events are read and
// what each event means for the candidates.

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "folder_watch_loop.hpp"

namespace creni::ingest {

using namespace detail;

namespace {

constexpr std::uint32_t kDirectoryMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE |
                                         IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF;
// Folder entries listed between two hand-overs to the sink (a few milliseconds of lstat).
constexpr std::size_t kScanSlice = 256;

}  // namespace

FolderWatcher::WatchLoop::~WatchLoop() {
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
}

void FolderWatcher::WatchLoop::initialize() {
  inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd_ < 0) {
    logger()->warn("inotify unavailable ({}): relying on rescans every {} s", std::strerror(errno),
                   options_.rescan_interval_s);
  }
  watch_root();
  rescan();
}

void FolderWatcher::WatchLoop::run(const std::atomic<bool>& stopping, int stop_fd) {
  auto next_rescan = Clock::now() + std::chrono::seconds(options_.rescan_interval_s);
  while (!stopping.load()) {
    std::array<pollfd, 2> fds{pollfd{stop_fd, POLLIN, 0}, pollfd{inotify_fd_, POLLIN, 0}};
    const int count = inotify_fd_ >= 0 ? 2 : 1;
    ::poll(fds.data(), count, poll_timeout_ms(next_rescan));
    if (stopping.load()) break;
    if (inotify_fd_ >= 0 && (fds[1].revents & POLLIN) != 0) read_events();
    if (Clock::now() >= next_rescan) {
      rescan();
      next_rescan = Clock::now() + std::chrono::seconds(options_.rescan_interval_s);
    }
    scan_some(kScanSlice);
    take_ready_files(stopping);
  }
}

int FolderWatcher::WatchLoop::poll_timeout_ms(Clock::time_point next_rescan) const {
  if (!pending_scans_.empty()) return 0;
  const auto now = Clock::now();
  auto due = next_rescan;
  for (const auto& [path, candidate] : candidates_) {
    if (due <= now) break;  // something is due already: no need to look further
    const auto window = quiet_window(candidate);
    auto ready_at = std::max(candidate.quiet_since + window, candidate.not_before);
    // A file open for writing waits for its close event (which wakes the poll), at the latest for the expiry.
    if (const auto open = open_for_write_.find(path); open != open_for_write_.end()) {
      ready_at = std::max(ready_at, open->second + kOpenForWriteExpiry);
    }
    due = std::min(due, ready_at);
  }
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - now).count();
  return static_cast<int>(std::clamp<long long>(wait + 1, 0, 1000));
}

void FolderWatcher::WatchLoop::add_watch(const std::filesystem::path& directory) {
  if (inotify_fd_ < 0) return;
  const int wd = ::inotify_add_watch(inotify_fd_, directory.c_str(), kDirectoryMask | IN_DONT_FOLLOW | IN_ONLYDIR);
  if (wd < 0) {
    logger()->warn("cannot watch {}: {}", directory.string(), std::strerror(errno));
    return;
  }
  watched_[wd] = directory;
}

void FolderWatcher::WatchLoop::watch_root() {
  if (inotify_fd_ < 0) return;
  const int wd = ::inotify_add_watch(inotify_fd_, options_.input_root.c_str(),
                                     IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
  if (wd >= 0) watched_[wd] = options_.input_root;
}

void FolderWatcher::WatchLoop::read_events() {
  alignas(inotify_event) std::array<char, 64 * 1024> buffer{};
  while (true) {
    const ssize_t length = ::read(inotify_fd_, buffer.data(), buffer.size());
    if (length <= 0) return;
    for (ssize_t offset = 0; offset < length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      handle(*event);
    }
  }
}

void FolderWatcher::WatchLoop::handle(const inotify_event& event) {
  if ((event.mask & IN_Q_OVERFLOW) != 0) {
    logger()->warn("inotify queue overflow: rescanning {}", options_.input_root.string());
    rescan();
    return;
  }
  const auto dir = watched_.find(event.wd);
  if (dir == watched_.end()) return;
  if ((event.mask & IN_IGNORED) != 0) {
    watched_.erase(dir);
    return;
  }
  if (event.len == 0) return;
  const std::filesystem::path path = dir->second / event.name;
  const std::string key = path.string();

  if ((event.mask & IN_ISDIR) != 0) {
    // A folder created or moved in, possibly already full of files (`mv prepared_tree INPUT/gateway_1/`).
    if ((event.mask & (IN_CREATE | IN_MOVED_TO)) != 0 && !gateway_of(path).empty()) watch_tree(path, true);
    return;
  }
  if ((event.mask & (IN_CREATE | IN_MODIFY)) != 0) {
    // A symbolic link or a hard link is created complete and never written through (the lease check still
    // sees a writer of the linked file); anything else created is being written until it is closed.
    FileStamp stamp;
    const bool complete = stamp_of_file(key, stamp) && (stamp.is_symlink || stamp.is_extra_link);
    if (!complete || (event.mask & IN_MODIFY) != 0) open_for_write_[key] = Clock::now();
    if (const auto known = candidates_.find(key); known != candidates_.end()) known->second.moved_in = false;
    consider(path, complete);
  }
  if ((event.mask & IN_CLOSE_WRITE) != 0 || (event.mask & IN_MOVED_TO) != 0) {
    open_for_write_.erase(key);
    consider(path, true, (event.mask & IN_MOVED_TO) != 0);
  }
  if ((event.mask & (IN_DELETE | IN_MOVED_FROM)) != 0) {
    open_for_write_.erase(key);
    candidates_.erase(key);
    taken_.erase(key);
    not_taken_.forget(key);
  }
}

}  // namespace creni::ingest
