#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

namespace creni::ingest {

/// Files the node itself placed in INPUT/gateway_<id>/ (SCP arrivals mirrored there by their worker), which the
/// folder door must not hash and record a second time. The pipeline expects each SCP arrival's mirror before the
/// job goes to its worker: the worker hard-links the spool file to INPUT/gateway_<id>/<StudyUID>/<SOPUID>, so the
/// link is known by the name of its SOP Instance UID, its gateway folder and the spool file's inode before it can
/// exist. A mirror copied across file systems (another inode) is added by name once the worker answers. The folder
/// watcher claims such a file instead of handing it over (and still takes it should it change later). A copy the
/// watcher sees before it is added is handed over and recorded as a duplicate: a saving, not a rule. Thread-safe.
class OwnInputFiles {
 public:
  using Clock = std::chrono::steady_clock;

  /// A file's identity on its file system (st_dev, st_ino).
  struct FileIdentity {
    std::uint64_t device = 0;
    std::uint64_t inode = 0;
  };

  /// How long an entry waits to be claimed. The watcher claims a file within its quiet window of seeing it; one
  /// never mirrored (refused, failed) or seen before it was added is never claimed, so every entry goes by itself.
  static constexpr std::chrono::seconds kKeep{120};

  /// A mirror copied to `file` (not a link of the spool file).
  void add(const std::filesystem::path& file, Clock::time_point now = Clock::now());
  /// The spool file `spool` of an SCP arrival is about to be linked into `mirror_root`/<StudyUID>/`sop_instance_uid`.
  void expect(const std::filesystem::path& mirror_root, const std::string& sop_instance_uid, FileIdentity spool,
              Clock::time_point now = Clock::now());
  /// True once for a file that was added by name, or that is an expected link: the same inode, named after the
  /// expected SOP Instance UID one folder below the expected mirror root. The entry is forgotten then.
  [[nodiscard]] bool claim(const std::string& file, FileIdentity identity);
  /// Entries remembered now (added or expected, neither claimed nor expired yet).
  [[nodiscard]] std::size_t size() const;

 private:
  struct ExpectedLink {
    std::filesystem::path mirror_root;
    std::string sop_instance_uid;
    Clock::time_point since;
  };
  using InodeKey = std::pair<std::uint64_t, std::uint64_t>;
  // Called with mutex_ held before every addition: expired entries go in one pass every kKeep / 2, so at most
  // 1.5 kKeep of additions are ever remembered.
  void forget_expired(Clock::time_point now);

  // A burst faster than kKeep can drain must not pile up either: beyond this, start afresh.
  static constexpr std::size_t kMaxRemembered = 100000;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> files_;  // file -> when it was added
  std::map<InodeKey, ExpectedLink> links_;                     // (device, inode) of a spool file -> its mirror
  Clock::time_point next_expiry_{};
};

}  // namespace creni::ingest
