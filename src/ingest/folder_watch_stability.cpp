// When the folder watcher takes a file: a candidate is complete once no writer is known to have it open, it has
// stayed unmodified for its quiet window, and no process holds it open for writing.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "creni/ingest/input_names.hpp"
#include "folder_watch_loop.hpp"

namespace creni::ingest {

using namespace detail;

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

}  // namespace

std::chrono::milliseconds FolderWatcher::WatchLoop::quiet_window(const Candidate& candidate) const {
  if (candidate.moved_in) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(candidate.evented ? options_.settle_ms : options_.stability_ms);
}

void FolderWatcher::WatchLoop::consider(const std::filesystem::path& path, bool evented, bool moved_in) {
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

bool FolderWatcher::WatchLoop::still_being_written(const std::string& key, Clock::time_point now) {
  const auto it = open_for_write_.find(key);
  if (it == open_for_write_.end()) return false;
  if (now - it->second < kOpenForWriteExpiry) return true;
  open_for_write_.erase(it);
  return false;
}

std::vector<Arrival> FolderWatcher::WatchLoop::collect_ready(const std::atomic<bool>& stopping, Clock::time_point now,
                                                             std::vector<std::string>& ready) {
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
    if (options_.own_files && options_.own_files->claim(key, current.identity)) {
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
  return batch;
}

}  // namespace creni::ingest
