#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>
#include <unordered_set>

namespace creni::ingest {

/// Files the node itself placed in INPUT/gateway_<id>/ (SCP arrivals mirrored there after they were recorded),
/// which the folder door must not hash and record a second time. The pipeline adds a file once its job points to
/// it; the folder watcher claims it instead of handing it over (and still takes it should it change later). A file
/// the watcher sees first is simply handed over and recorded as the same file: this is a saving, not a rule.
/// Thread-safe.
class OwnInputFiles {
 public:
  void add(const std::filesystem::path& file);
  /// True once for a file that was added (which is forgotten then).
  [[nodiscard]] bool claim(const std::string& file);

 private:
  // Names the watcher never came to claim (deleted at once, say) must not pile up: beyond this, start afresh.
  static constexpr std::size_t kMaxRemembered = 100000;
  std::mutex mutex_;
  std::unordered_set<std::string> files_;
};

}  // namespace creni::ingest
