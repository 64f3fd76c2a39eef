#include "creni/common/free_space.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

namespace creni::fs {

std::optional<std::uint64_t> free_bytes(const std::filesystem::path& folder) {
  struct statvfs info {};
  if (::statvfs(folder.c_str(), &info) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(info.f_bavail) * info.f_frsize;
}

std::uint64_t free_megabytes(const std::filesystem::path& folder) {
  const auto bytes = free_bytes(folder);
  return bytes ? *bytes / (1024 * 1024) : UINT64_MAX;
}

std::optional<Volume> volume_of(const std::filesystem::path& folder) {
  struct stat status {};
  struct statvfs info {};
  if (::stat(folder.c_str(), &status) != 0 || ::statvfs(folder.c_str(), &info) != 0) return std::nullopt;
  Volume volume;
  volume.device = static_cast<std::uint64_t>(status.st_dev);
  volume.size_bytes = static_cast<std::uint64_t>(info.f_blocks) * info.f_frsize;
  return volume;
}

}  // namespace creni::fs
