#pragma once

#include <filesystem>
#include <string>

#include "creni/common/owned_fd.hpp"
#include "creni/common/result.hpp"

namespace creni::fs {

/// An input file opened for reading by its path: never through a symbolic link ("symlink"), never blocking on a
/// FIFO or device, only a regular file ("not_regular_file"); the descriptor is back in blocking mode. Errors also
/// "input_vanished" (no such file), "unreadable" (permission denied), "io_error".
[[nodiscard]] Result<OwnedFd> open_regular_file(const std::filesystem::path& path);

/// Whether a write may take the place of a file that already has the name.
enum class Replace {
  never,    ///< the write fails with "exists" and the existing file stays as it is
  allowed,  ///< the existing file is replaced atomically (only for a job's own earlier result)
};

/// An open directory that files are created in by name (openat, linkat, renameat2), so that nothing below it can
/// redirect a write: no symbolic link is followed below the root, and a name that already exists is never
/// replaced unless the caller says so. Move-only; safe to share between threads for reading (the operations are
/// single system calls on the descriptor).
class Directory {
 public:
  /// Opens a folder the node was configured with (following links in the configured path itself), creating it
  /// (durably) when `create`. Errors: "io_error".
  [[nodiscard]] static Result<Directory> open_root(const std::filesystem::path& root, bool create);

  /// Opens `relative` (a path without "..") below `root`, one component at a time and never through a symbolic
  /// link; missing folders are created (and made durable) when `create`. Errors: "symlink" (a component is a
  /// symbolic link or not a folder), "invalid_path" (absolute or with ".."), "io_error".
  [[nodiscard]] static Result<Directory> open_beneath(const std::filesystem::path& root,
                                                      const std::filesystem::path& relative, bool create);

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// `name` inside this folder opened for reading: never through a symbolic link ("symlink"), never blocking on a
  /// FIFO or device, only a regular file ("not_regular_file"). Errors also "input_vanished" (no such file),
  /// "io_error": the same codes as fs::open_regular_file, which are the journal's reasons when a job ends on them.
  [[nodiscard]] Result<OwnedFd> open_regular_file(const std::string& name) const;

  /// A new file `name` (O_EXCL, O_NOFOLLOW), for writing. Errors: "exists", "io_error".
  [[nodiscard]] Result<OwnedFd> create_file(const std::string& name) const;

  /// Gives `from` (a file in this folder) the name `to`, atomically (renameat2 RENAME_NOREPLACE unless
  /// `replace` allows otherwise). On "exists" `from` is left in place for the caller to decide. Errors:
  /// "exists", "io_error".
  [[nodiscard]] Status rename(const std::string& from, const std::string& to, Replace replace) const;

  /// A second name `to` in this folder for the file at `source` (linkat, never replacing). Errors: "exists",
  /// "cross_device" (another file system: copy instead), "io_error".
  [[nodiscard]] Status link_from(const std::filesystem::path& source, const std::string& to) const;

  /// Makes the bytes readable from `source` (from its current offset to the end) a complete, durable file
  /// `name` here: a temporary sibling created with O_EXCL, fsynced, then renamed without replacing. Errors:
  /// "exists" (the temporary copy is removed), "io_error".
  [[nodiscard]] Status copy_in(int source, const std::string& name) const;

  /// fsync of `name` in this folder (a regular file, not followed if a link). Error "io_error".
  [[nodiscard]] Status sync_file(const std::string& name) const;
  /// fsync of the folder itself. Error "io_error".
  [[nodiscard]] Status sync() const;
  /// Removes `name` from this folder; a missing name is fine.
  void remove(const std::string& name) const;

 private:
  Directory(OwnedFd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}

  OwnedFd fd_;
  std::filesystem::path path_;
};

}  // namespace creni::fs
