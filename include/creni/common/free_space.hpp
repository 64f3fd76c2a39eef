#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace creni::fs {

/// Bytes an unprivileged writer may still use on the volume of `folder` (statvfs f_bavail); nullopt when the
/// volume cannot be asked. Thread-safe.
[[nodiscard]] std::optional<std::uint64_t> free_bytes(const std::filesystem::path& folder);

/// free_bytes() in MiB. A volume that cannot be asked counts as unlimited: a failed statvfs must never stop intake
/// or start a sweep on its own.
[[nodiscard]] std::uint64_t free_megabytes(const std::filesystem::path& folder);

/// The file system a folder is on: its device (st_dev: two folders with the same one share their space) and its
/// size in bytes (statvfs f_blocks).
struct Volume {
  std::uint64_t device = 0;
  std::uint64_t size_bytes = 0;
};

/// The volume of `folder`; nullopt when it cannot be asked.
[[nodiscard]] std::optional<Volume> volume_of(const std::filesystem::path& folder);

}  // namespace creni::fs
