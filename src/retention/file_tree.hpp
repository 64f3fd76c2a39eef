#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

namespace creni::retention {

/// A regular file below an area's root.
struct TreeFile {
  std::filesystem::path path;
  std::int64_t bytes = 0;
  std::int64_t modified_ms = 0;  ///< unix epoch ms
};

/// Regular files below `root` (recursively, symbolic links neither followed nor listed, temporary names of
/// atomic writes skipped). A missing root has none.
[[nodiscard]] std::vector<TreeFile> list_files(const std::filesystem::path& root);

/// Whether `path` lies below `root` (lexically, both made absolute).
[[nodiscard]] bool is_below(const std::filesystem::path& path, const std::filesystem::path& root);

/// What a tree sweep removed.
struct TreeRemoval {
  std::int64_t files = 0;
  std::int64_t bytes = 0;
  std::int64_t errors = 0;
};

/// Removes the files below `root` last modified before `now_ms - max_age_s` (unless max_age_s is 0), then, while
/// the rest exceeds `max_bytes` (unless 0), the oldest ones: oldest first in both cases. `pace` runs after every
/// few removals and stops the sweep when it returns false.
[[nodiscard]] TreeRemoval sweep_tree(const std::filesystem::path& root, std::int64_t max_age_s, std::uint64_t max_bytes,
                                     std::int64_t now_ms, const std::function<bool()>& pace);

/// Removes empty folders strictly below `root` whose last change is older than `grace_ms` (a folder just made
/// may be about to receive a file). Deepest first.
void remove_empty_folders(const std::filesystem::path& root, std::int64_t now_ms, std::int64_t grace_ms);

}  // namespace creni::retention
