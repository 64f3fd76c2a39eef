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

}  // namespace creni::fs
