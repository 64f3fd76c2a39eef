#include "file_tree.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "creni/common/atomic_file.hpp"
#include "creni/retention/area_usage.hpp"

namespace creni::retention {

namespace {

constexpr int kRemovalsPerPace = 50;

std::int64_t modified_ms(const struct stat& info) {
  return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000 + info.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

std::vector<TreeFile> list_files(const std::filesystem::path& root) {
  std::vector<TreeFile> files;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) continue;
    if (fs::is_temp_name(it->path().filename().string())) continue;
    files.push_back(TreeFile{it->path(), static_cast<std::int64_t>(info.st_size), modified_ms(info)});
  }
  return files;
}

bool is_below(const std::filesystem::path& path, const std::filesystem::path& root) {
  const auto full = std::filesystem::absolute(path).lexically_normal();
  const auto base = std::filesystem::absolute(root).lexically_normal();
  const auto relative = full.lexically_relative(base);
  return !relative.empty() && *relative.begin() != ".." && relative != ".";
}

TreeRemoval sweep_tree(const std::filesystem::path& root, std::int64_t max_age_s, std::uint64_t max_bytes,
                       std::int64_t now_ms, const std::function<bool()>& pace) {
  TreeRemoval removed;
  if (max_age_s <= 0 && max_bytes == 0) return removed;
  auto files = list_files(root);
  std::sort(files.begin(), files.end(), [](const TreeFile& a, const TreeFile& b) {
    return a.modified_ms != b.modified_ms ? a.modified_ms < b.modified_ms : a.path < b.path;
  });
  std::uint64_t total = 0;
  for (const auto& file : files) total += static_cast<std::uint64_t>(file.bytes);
  const std::int64_t cutoff_ms = max_age_s > 0 ? now_ms - max_age_s * 1000 : INT64_MIN;
  int since_pace = 0;
  for (const auto& file : files) {
    const bool too_old = file.modified_ms < cutoff_ms;
    const bool over_cap = max_bytes != 0 && total > max_bytes;
    if (!too_old && !over_cap) break;  // sorted oldest first: nothing later qualifies either
    std::error_code ec;
    const bool gone = std::filesystem::remove(file.path, ec);  // false without error: someone else removed it
    if (ec) {
      ++removed.errors;
    } else {
      removed.files += gone ? 1 : 0;
      removed.bytes += gone ? file.bytes : 0;
      total -= static_cast<std::uint64_t>(file.bytes);
    }
    if (++since_pace == kRemovalsPerPace) {
      since_pace = 0;
      if (!pace()) break;
    }
  }
  return removed;
}

void remove_empty_folders(const std::filesystem::path& root, std::int64_t now_ms, std::int64_t grace_ms) {
  std::vector<std::filesystem::path> folders;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat info {};
    if (::lstat(it->path().c_str(), &info) == 0 && S_ISDIR(info.st_mode) && now_ms - modified_ms(info) > grace_ms) {
      folders.push_back(it->path());
    }
  }
  // Deepest first, so that a folder emptied by removing its empty children goes too in a later sweep.
  std::sort(folders.begin(), folders.end(), [](const auto& a, const auto& b) { return a.native().size() > b.native().size(); });
  for (const auto& folder : folders) {
    std::error_code ignored;
    if (std::filesystem::is_empty(folder, ignored)) std::filesystem::remove(folder, ignored);  // rmdir: never recursive
  }
}

AreaUsage measure_tree(const std::filesystem::path& root) {
  AreaUsage usage;
  for (const auto& file : list_files(root)) {
    usage.bytes += file.bytes;
    ++usage.files;
  }
  return usage;
}

AreaFigures measure_areas(const config::NodeConfig& config) {
  AreaFigures figures;
  figures.output = measure_tree(config.output_dir);
  figures.archive = measure_tree(config.state_dir / "archive");
  figures.quarantine = measure_tree(config.state_dir / "quarantine");
  figures.spool = measure_tree(config.state_dir / "spool");
  for (const char* name : {"journal.db", "journal.db-wal", "journal.db-shm"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(config.state_dir / name, ec);
    if (ec) continue;
    figures.journal.bytes += static_cast<std::int64_t>(size);
    ++figures.journal.files;
  }
  return figures;
}

}  // namespace creni::retention
