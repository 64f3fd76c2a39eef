#pragma once

#include <filesystem>
#include <string_view>

#include "creni/common/result.hpp"

namespace creni::fs {

/// Suffix of every temporary file the node writes; such files are never final, never picked up as input, and
/// removed at start-up.
inline constexpr std::string_view kTempSuffix = ".creni-tmp";

/// The temporary sibling used while `final_path` is being written ("<dir>/.<name>.<unique>.creni-tmp").
[[nodiscard]] std::filesystem::path temp_path_for(const std::filesystem::path& final_path);

/// Makes a completely written temporary file durable under its final name: fsync(file), rename, fsync(directory).
/// A reader never sees a partial file under `final_path`. On failure the temporary file is removed.
[[nodiscard]] Status commit_file(const std::filesystem::path& temp_path, const std::filesystem::path& final_path);

/// Writes `bytes` to `final_path` atomically (temporary sibling, fsync, rename, fsync of the directory).
[[nodiscard]] Status write_file_atomically(const std::filesystem::path& final_path, std::string_view bytes);

/// fsync of a directory, so that a rename or a new entry in it survives a power cut.
[[nodiscard]] Status sync_directory(const std::filesystem::path& directory);

/// create_directories plus fsync of every directory it created and of their parent.
[[nodiscard]] Status create_directories_durably(const std::filesystem::path& directory);

}  // namespace creni::fs
