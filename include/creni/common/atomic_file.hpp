#pragma once

#include <filesystem>
#include <string_view>

#include "creni/common/result.hpp"

namespace creni::fs {

/// Suffix of every temporary file the node writes; such files are never final, never picked up as input, and
/// removed at start-up.
inline constexpr std::string_view kTempSuffix = ".creni-tmp";

/// Whether a file name is one of our temporary names (it ends in kTempSuffix).
[[nodiscard]] bool is_temp_name(std::string_view name);

/// The temporary sibling used while `final_path` is being written ("<dir>/.<name>.<unique>.creni-tmp").
[[nodiscard]] std::filesystem::path temp_path_for(const std::filesystem::path& final_path);

/// Who makes the new directory entry of a committed file durable.
enum class FolderSync {
  now,        ///< commit_file fsyncs the directory before it returns
  by_caller,  ///< the caller does (for example with FolderSyncer, folder_syncer.hpp: several renames share one fsync)
};

/// Makes a completely written temporary file durable under its final name: fsync(file), rename, fsync(directory)
/// (unless `folder_sync` leaves that to the caller). A reader never sees a partial file under `final_path`. On
/// failure the temporary file is removed.
[[nodiscard]] Status commit_file(const std::filesystem::path& temp_path, const std::filesystem::path& final_path,
                                 FolderSync folder_sync = FolderSync::now);

/// Removes the temporary files that process `pid` left below `root` (at most `depth` folder levels down), for
/// example after a worker process was killed in the middle of a write. Returns how many were removed.
std::size_t remove_temp_files_of(const std::filesystem::path& root, long pid, int depth);

/// Writes `bytes` to `final_path` atomically (temporary sibling, fsync, rename, fsync of the directory).
[[nodiscard]] Status write_file_atomically(const std::filesystem::path& final_path, std::string_view bytes);

/// Writes all `size` bytes to `fd`, again after EINTR and short writes. False when a write fails, with errno set
/// (EIO when a write wrote nothing).
[[nodiscard]] bool write_all(int fd, const void* data, std::size_t size);

/// fsync of a regular file (never through a symbolic link). Error "io_error".
[[nodiscard]] Status sync_file(const std::filesystem::path& file);

/// fsync of a directory, so that a rename or a new entry in it survives a power cut.
[[nodiscard]] Status sync_directory(const std::filesystem::path& directory);

/// create_directories plus fsync of every directory it created and of their parent.
[[nodiscard]] Status create_directories_durably(const std::filesystem::path& directory);

}  // namespace creni::fs
