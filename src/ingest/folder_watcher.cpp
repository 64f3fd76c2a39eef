#include "creni/ingest/folder_watcher.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <chrono>
#include <cstring>
#include <deque>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "creni/common/atomic_file.hpp"
#include "creni/config/node_config.hpp"
#include "creni/ingest/input_names.hpp"

namespace creni::ingest {

namespace {

// True when some process has the file open for writing right now. A read lease (F_SETLEASE F_RDLCK) is refused
// with EAGAIN exactly then, which also covers writers that started before our watch existed and stall longer than
// the stability window. Where leases are unavailable (another owner without CAP_LEASE, NFS), the answer is false
// and the stability window alone decides.
bool open_for_writing_elsewhere(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return false;
  bool writing = false;
  if (::fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
    ::fcntl(fd, F_SETLEASE, F_UNLCK);
  } else {
    writing = errno == EAGAIN;
  }
  ::close(fd);
  return writing;
}

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kDirectoryMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_MODIFY | IN_DELETE |
                                         IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF;
// A file created or modified without a close since is assumed open for writing; after this long without any
// event it is treated as scanned (a hard link, for example, is created without ever being opened).
constexpr auto kOpenForWriteExpiry = std::chrono::minutes(5);
// Files handed to the sink in one call at most: enough to share one journal commit across a burst, few enough
// that the workers are not starved while the others are hashed. A burst starts with one file and doubles the
// batch each time (slow start), so that its first file reaches a worker after one hash and one commit, not 32.
constexpr std::size_t kMaxBatch = 32;
constexpr auto kRetryAfterRefusal = std::chrono::seconds(1);
// Folder entries listed between two hand-overs to the sink (a few milliseconds of lstat).
constexpr std::size_t kScanSlice = 256;
// Entries listed per rescan in one folder that is not a gateway folder: enough to say what is there, bounded so
// that a large misplaced tree costs little.
constexpr std::size_t kOutsideListingLimit = 10000;

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("ingest");
  return named ? named : spdlog::default_logger();
}

struct FileStamp {
  std::int64_t size = -1;
  std::int64_t mtime_ns = 0;
  bool is_symlink = false;
  bool is_extra_link = false;  // a second name of an existing file (a hard link): created complete, never written
  bool operator==(const FileStamp& o) const { return size == o.size && mtime_ns == o.mtime_ns && is_symlink == o.is_symlink; }
};

// What lstat says about a path the watcher considers.
enum class Kind { gone, regular_or_link, other, too_long };

Kind stamp_of(const std::string& path, FileStamp& stamp) {
  struct stat info {};
  if (path.size() >= PATH_MAX) return Kind::too_long;
  if (::lstat(path.c_str(), &info) != 0) return errno == ENAMETOOLONG ? Kind::too_long : Kind::gone;
  // FIFOs, devices and sockets are never opened: a FIFO without a writer blocks whoever opens it.
  if (!S_ISREG(info.st_mode) && !S_ISLNK(info.st_mode)) return Kind::other;
  stamp.size = info.st_size;
  stamp.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  stamp.is_symlink = S_ISLNK(info.st_mode);
  stamp.is_extra_link = S_ISREG(info.st_mode) && info.st_nlink > 1;
  return Kind::regular_or_link;
}

bool stamp_of_file(const std::string& path, FileStamp& stamp) { return stamp_of(path, stamp) == Kind::regular_or_link; }

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

}  // namespace

// All state of the watcher; touched only by the watcher thread once start() has returned.
class FolderWatcher::WatchLoop {
 public:
  WatchLoop(const FolderWatcherOptions& options, ArrivalSink& sink, const std::function<bool()>& intake_paused,
            std::atomic<std::uint64_t>& handed_over, FilesNotTaken& not_taken)
      : options_(options), sink_(sink), intake_paused_(intake_paused), handed_over_(handed_over),
        not_taken_(not_taken) {}

  ~WatchLoop() {
    if (inotify_fd_ >= 0) ::close(inotify_fd_);
  }

  // Runs on the caller's thread before the loop starts, so that every event after start() returns is seen.
  void initialize() {
    inotify_fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (inotify_fd_ < 0) {
      logger()->warn("inotify unavailable ({}): relying on rescans every {} s", std::strerror(errno),
                     options_.rescan_interval_s);
    }
    watch_root();
    rescan();
  }

  void run(const std::atomic<bool>& stopping, int stop_fd) {
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

 private:
  int poll_timeout_ms(Clock::time_point next_rescan) const {
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

  // How long a candidate must stay unmodified before it is taken.
  std::chrono::milliseconds quiet_window(const Candidate& candidate) const {
    if (candidate.moved_in) return std::chrono::milliseconds(0);
    return std::chrono::milliseconds(candidate.evented ? options_.settle_ms : options_.stability_ms);
  }

  bool gateway_wanted(const std::string& id) const {
    if (id.empty()) return false;
    if (options_.discover_gateways) return true;
    return std::find(options_.gateway_ids.begin(), options_.gateway_ids.end(), id) != options_.gateway_ids.end();
  }

  // The gateway a path belongs to: the first component below INPUT, or "" when outside any gateway folder.
  std::string gateway_of(const std::filesystem::path& path) const {
    const auto relative = path.lexically_relative(options_.input_root);
    if (relative.empty() || relative.begin() == relative.end()) return {};
    const std::string id = gateway_id_of_folder(relative.begin()->string());
    return gateway_wanted(id) ? id : std::string();
  }

  // Why a path outside every wanted gateway folder is not taken.
  std::string_view outside_reason(const std::filesystem::path& path) const {
    const auto relative = path.lexically_relative(options_.input_root);
    const bool in_subfolder = std::distance(relative.begin(), relative.end()) > 1;
    if (in_subfolder && !gateway_id_of_folder(relative.begin()->string()).empty()) return "unknown_gateway";
    return "outside_gateway_folder";
  }

  void add_watch(const std::filesystem::path& directory) {
    if (inotify_fd_ < 0) return;
    const int wd = ::inotify_add_watch(inotify_fd_, directory.c_str(), kDirectoryMask | IN_DONT_FOLLOW | IN_ONLYDIR);
    if (wd < 0) {
      logger()->warn("cannot watch {}: {}", directory.string(), std::strerror(errno));
      return;
    }
    watched_[wd] = directory;
  }

  void watch_root() {
    if (inotify_fd_ < 0) return;
    const int wd = ::inotify_add_watch(inotify_fd_, options_.input_root.c_str(),
                                       IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
    if (wd >= 0) watched_[wd] = options_.input_root;
  }

  // Watches a gateway folder (or a folder inside one) and everything below it, and considers its files. The
  // folder is watched at once and listed a slice at a time (scan_some), between hand-overs to the sink.
  void watch_tree(const std::filesystem::path& directory, bool evented) {
    add_watch(directory);
    pending_scans_.push_back(PendingScan{directory, evented});
  }

  // Lists up to `budget` entries of the folders waiting to be scanned: files are considered, folders watched and
  // queued. A large tree moved in at once thus has its first files on their way before all of it is listed.
  void scan_some(std::size_t budget) {
    while (budget > 0 && !pending_scans_.empty()) {
      const PendingScan scan = pending_scans_.front();
      std::error_code ec;
      if (!scanning_) scanning_.emplace(scan.folder, ec);
      auto& it = *scanning_;
      for (; !ec && budget > 0 && it != std::filesystem::directory_iterator(); it.increment(ec), --budget) {
        std::error_code kind;
        if (!it->is_symlink(kind) && it->is_directory(kind)) {
          add_watch(it->path());
          pending_scans_.push_back(PendingScan{it->path(), scan.evented});
        } else {
          consider(it->path(), scan.evented);
        }
      }
      if (ec == std::errc::filename_too_long) not_taken_.note(scan.folder.string(), "name_too_long", "folder not listed");
      if (ec || it == std::filesystem::directory_iterator()) {
        scanning_.reset();
        pending_scans_.pop_front();
      }
    }
  }

  void rescan() {
    std::error_code ec;
    std::unordered_map<std::string, FileStamp> still_present;
    for (const auto& entry : std::filesystem::directory_iterator(options_.input_root, ec)) {
      if (!entry.is_directory(ec) || entry.is_symlink(ec)) {
        report_outside(entry.path());
        continue;
      }
      if (gateway_of(entry.path()).empty()) {
        if (gateway_id_of_folder(entry.path().filename().string()).empty()) {
          report_outside_folder(entry.path());
        } else if (other_gateways_.insert(entry.path().string()).second) {
          // Another node's gateway (shards share INPUT): left alone, said once.
          logger()->info("{} is not one of this node's gateways: its files are left to the node that has it",
                         entry.path().string());
        }
        continue;
      }
      // Watches are idempotent per directory: inotify returns the same descriptor for a directory watched twice.
      watch_tree(entry.path(), false);
    }
    not_taken_.forget_missing();
    // Forget taken files that are gone, so that a file later dropped under the same name is taken again.
    for (auto it = taken_.begin(); it != taken_.end();) {
      FileStamp stamp;
      it = stamp_of_file(it->first, stamp) ? std::next(it) : taken_.erase(it);
    }
  }

  // A file in INPUT itself or in a folder not named gateway_<id>: said once, never taken. The node's own temporary
  // and hidden names are not files anyone meant to deliver, and another node's gateway folder is not ours to judge.
  void report_outside(const std::filesystem::path& path) {
    if (!is_candidate_input_name(path.filename().string())) return;
    const std::string_view reason = outside_reason(path);
    if (reason == "unknown_gateway") return;
    not_taken_.note(path.string(), reason);
  }

  // The gateway's image.db is read by the workers: one that is a FIFO, device or socket would block whoever
  // opens it, so it is said here (the workers skip it too).
  void report_if_special_index(const std::filesystem::path& path) {
    if (path.filename() != "image.db") return;
    FileStamp stamp;
    if (stamp_of(path.string(), stamp) == Kind::other) {
      not_taken_.note(path.string(), "not_regular_file", "the gateway's image.db is not a regular file: not read");
    }
  }

  // Every file below a folder that is not a wanted gateway_<id> (symbolic links are listed, never followed).
  void report_outside_folder(const std::filesystem::path& folder) {
    std::error_code ec;
    std::size_t budget = kOutsideListingLimit;
    for (auto it = std::filesystem::recursive_directory_iterator(
             folder, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator() && budget > 0; it.increment(ec), --budget) {
      std::error_code kind;
      if (it->is_symlink(kind) || !it->is_directory(kind)) report_outside(it->path());
    }
  }

  void consider(const std::filesystem::path& path, bool evented, bool moved_in = false) {
    if (!is_candidate_input_name(path.filename().string())) {
      report_if_special_index(path);
      return;
    }
    const std::string gateway = gateway_of(path);
    if (gateway.empty()) {
      report_outside(path);
      return;
    }
    FileStamp stamp;
    const std::string key = path.string();
    switch (stamp_of(key, stamp)) {
      case Kind::regular_or_link:
        break;
      case Kind::gone:
        return;
      case Kind::other:
        not_taken_.note(key, "not_regular_file", "FIFO, device or socket: never opened");
        return;
      case Kind::too_long:
        not_taken_.note(key, "name_too_long", "path longer than PATH_MAX");
        return;
    }
    if (const auto taken = taken_.find(key); taken != taken_.end() && taken->second == stamp) return;
    auto [it, inserted] = candidates_.try_emplace(key);
    Candidate& candidate = it->second;
    if (inserted || !(candidate.stamp == stamp)) {
      candidate.gateway_id = gateway;
      candidate.stamp = stamp;
      candidate.quiet_since = Clock::now();
      candidate.moved_in = false;  // changed since it was renamed in: written in place after all
    }
    candidate.evented = candidate.evented || evented;
    candidate.moved_in = candidate.moved_in || moved_in;
  }

  void read_events() {
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

  void handle(const inotify_event& event) {
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

  bool still_being_written(const std::string& key, Clock::time_point now) {
    const auto it = open_for_write_.find(key);
    if (it == open_for_write_.end()) return false;
    if (now - it->second < kOpenForWriteExpiry) return true;
    open_for_write_.erase(it);
    return false;
  }

  void take_ready_files(const std::atomic<bool>& stopping) {
    const auto now = Clock::now();
    std::vector<std::string> ready;
    std::vector<Arrival> batch;
    for (auto it = candidates_.begin(); it != candidates_.end() && !stopping.load() && batch.size() < batch_limit_;) {
      const std::string& key = it->first;
      Candidate& candidate = it->second;
      const auto window = quiet_window(candidate);
      if (now < candidate.not_before || now - candidate.quiet_since < window || still_being_written(key, now)) {
        ++it;
        continue;
      }
      FileStamp current;
      if (!stamp_of_file(key, current)) {
        it = candidates_.erase(it);
        continue;
      }
      if (!(current == candidate.stamp)) {
        candidate.stamp = current;
        candidate.quiet_since = now;
        ++it;
        continue;
      }
      if (!current.is_symlink && open_for_writing_elsewhere(key)) {
        candidate.quiet_since = now;
        ++it;
        continue;
      }
      if (options_.own_files && options_.own_files->claim(key)) {
        taken_[key] = current;  // the node's own mirror of a recorded SCP arrival: nothing new
        it = candidates_.erase(it);
        continue;
      }
      if (intake_paused_ && intake_paused_()) {
        candidate.not_before = now + kRetryAfterRefusal;
        ++it;
        continue;
      }
      Arrival arrival;
      arrival.gateway_id = candidate.gateway_id;
      arrival.source = ArrivalSource::folder;
      arrival.path = key;
      batch.push_back(std::move(arrival));
      ready.push_back(key);
      ++it;
    }
    if (batch.empty()) {
      batch_limit_ = 1;  // idle: the next burst starts small again
      return;
    }
    batch_limit_ = std::min(kMaxBatch, batch_limit_ * 2);

    // One hand-over for everything that became ready together: the sink can make a burst durable in one write.
    const std::vector<AcceptResult> results = sink_.accept_all(batch);
    for (std::size_t i = 0; i < ready.size(); ++i) {
      const auto candidate = candidates_.find(ready[i]);
      if (candidate == candidates_.end()) continue;
      if (results[i].outcome == AcceptOutcome::out_of_resources) {
        logger()->warn("gw={} file {} not taken yet: {} {}", candidate->second.gateway_id, ready[i], results[i].reason,
                       results[i].detail);
        candidate->second.not_before = now + kRetryAfterRefusal;
        continue;
      }
      // Refused without a journal row (unreadable, replaced by a FIFO meanwhile): said here, once, and tried again
      // after a rescan interval, since a permission fixed in place changes neither size nor modification time.
      if (results[i].outcome == AcceptOutcome::rejected && results[i].job_id == 0) {
        not_taken_.note(ready[i], results[i].reason, results[i].detail);
        candidate->second.not_before = now + std::chrono::seconds(options_.rescan_interval_s);
        continue;
      }
      taken_[ready[i]] = candidate->second.stamp;
      handed_over_.fetch_add(1);
      candidates_.erase(candidate);
    }
  }

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

std::string gateway_id_of_folder(const std::string& directory_name) {
  constexpr std::string_view kPrefix = "gateway_";
  if (directory_name.rfind(kPrefix, 0) != 0) return {};
  std::string id = directory_name.substr(kPrefix.size());
  return config::is_valid_gateway_id(id) ? id : std::string();
}

FolderWatcher::FolderWatcher(FolderWatcherOptions options, ArrivalSink& sink, std::function<bool()> intake_paused)
    : options_(std::move(options)), sink_(sink), intake_paused_(std::move(intake_paused)) {}

FolderWatcher::~FolderWatcher() { stop(); }

Status FolderWatcher::start() {
  if (thread_.joinable()) return {};
  if (Status made = fs::create_directories_durably(options_.input_root); !made) return made;
  for (const auto& id : options_.gateway_ids) {
    if (Status made = fs::create_directories_durably(options_.input_root / ("gateway_" + id)); !made) return made;
  }
  stop_event_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (stop_event_fd_ < 0) return make_error("io_error", std::string("eventfd: ") + std::strerror(errno));
  stopping_.store(false);
  loop_ = std::make_unique<WatchLoop>(options_, sink_, intake_paused_, handed_over_, not_taken_);
  loop_->initialize();
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "folder-watcher");
    try {
      loop_->run(stopping_, stop_event_fd_);
    } catch (const std::exception& e) {
      logger()->critical("folder watcher stopped on an internal error: {}", e.what());
    } catch (...) {
      logger()->critical("folder watcher stopped on an unknown internal error");
    }
  });
  return {};
}

void FolderWatcher::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true);
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_event_fd_, &one, sizeof one);
  thread_.join();
  loop_.reset();
  ::close(stop_event_fd_);
  stop_event_fd_ = -1;
}

}  // namespace creni::ingest
