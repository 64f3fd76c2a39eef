// The folder watcher's listing side: which gateway a path belongs to, listing new folders a slice at a time,
// the periodic rescan of INPUT, and saying once what lies outside every wanted gateway folder.

#include <algorithm>
#include <iterator>

#include "creni/ingest/input_names.hpp"
#include "folder_watch_loop.hpp"

namespace creni::ingest {

using namespace detail;

namespace {

// Entries listed per rescan in one folder that is not a gateway folder: enough to say what is there, bounded so
// that a large misplaced tree costs little.
constexpr std::size_t kOutsideListingLimit = 10000;

}  // namespace

bool FolderWatcher::WatchLoop::gateway_wanted(const std::string& id) const {
  if (id.empty()) return false;
  if (options_.discover_gateways) return true;
  return std::find(options_.gateway_ids.begin(), options_.gateway_ids.end(), id) != options_.gateway_ids.end();
}

std::string FolderWatcher::WatchLoop::gateway_of(const std::filesystem::path& path) const {
  const auto relative = path.lexically_relative(options_.input_root);
  if (relative.empty() || relative.begin() == relative.end()) return {};
  const std::string id = gateway_id_of_folder(relative.begin()->string());
  return gateway_wanted(id) ? id : std::string();
}

std::string_view FolderWatcher::WatchLoop::outside_reason(const std::filesystem::path& path) const {
  const auto relative = path.lexically_relative(options_.input_root);
  const bool in_subfolder = std::distance(relative.begin(), relative.end()) > 1;
  if (in_subfolder && !gateway_id_of_folder(relative.begin()->string()).empty()) return "unknown_gateway";
  return "outside_gateway_folder";
}

// Watches a gateway folder (or a folder inside one) and everything below it, and considers its files. The
// folder is watched at once and listed a slice at a time (scan_some), between hand-overs to the sink.
void FolderWatcher::WatchLoop::watch_tree(const std::filesystem::path& directory, bool evented) {
  add_watch(directory);
  pending_scans_.push_back(PendingScan{directory, evented});
}

// Lists up to `budget` entries of the folders waiting to be scanned: files are considered, folders watched and
// queued. A large tree moved in at once thus has its first files on their way before all of it is listed.
void FolderWatcher::WatchLoop::scan_some(std::size_t budget) {
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

void FolderWatcher::WatchLoop::rescan() {
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
void FolderWatcher::WatchLoop::report_outside(const std::filesystem::path& path) {
  if (!is_candidate_input_name(path.filename().string())) return;
  const std::string_view reason = outside_reason(path);
  if (reason == "unknown_gateway") return;
  not_taken_.note(path.string(), reason);
}

// The gateway's image.db is read by the workers: one that is a FIFO, device or socket would block whoever
// opens it, so it is said here (the workers skip it too).
void FolderWatcher::WatchLoop::report_if_special_index(const std::filesystem::path& path) {
  if (path.filename() != "image.db") return;
  FileStamp stamp;
  if (stamp_of(path.string(), stamp) == Kind::other) {
    not_taken_.note(path.string(), "not_regular_file", "the gateway's image.db is not a regular file: not read");
  }
}

// Every file below a folder that is not a wanted gateway_<id> (symbolic links are listed, never followed).
void FolderWatcher::WatchLoop::report_outside_folder(const std::filesystem::path& folder) {
  std::error_code ec;
  std::size_t budget = kOutsideListingLimit;
  for (auto it = std::filesystem::recursive_directory_iterator(
           folder, std::filesystem::directory_options::skip_permission_denied, ec);
       !ec && it != std::filesystem::recursive_directory_iterator() && budget > 0; it.increment(ec), --budget) {
    std::error_code kind;
    if (it->is_symlink(kind) || !it->is_directory(kind)) report_outside(it->path());
  }
}

}  // namespace creni::ingest
