#include "spool_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>

namespace creni::ingest {

namespace {

std::string unique_stem() {
  static std::atomic<unsigned long> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return "scp-" + std::to_string(micros) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

// Creates the spool file exclusively (O_EXCL, O_NOFOLLOW): the name is ours alone, never an existing file or a
// link someone left in the spool. Names are unique already; a clash only means trying the next one.
std::filesystem::path reserve_name(const std::filesystem::path& spool_dir, bool& reserved) {
  std::filesystem::path path;
  for (int attempt = 0; attempt < 8; ++attempt) {
    path = spool_dir / (unique_stem() + ".dcm");
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      reserved = true;
      return path;
    }
    if (errno != EEXIST) break;
  }
  return path;  // not reserved: writing it fails (or finds it ours), and the C-STORE is refused as out of resources
}

}  // namespace

SpoolFile::SpoolFile(const std::filesystem::path& spool_dir) : path_(reserve_name(spool_dir, owned_)) {}

SpoolFile::~SpoolFile() {
  // unlink, not std::filesystem::remove: a destructor must not throw, and a missing file is fine.
  if (owned_) ::unlink(path_.c_str());
}

Status SpoolFile::make_durable(fs::FolderSyncer& folders) const {
  if (Status synced = fs::sync_file(path_); !synced) return synced;
  return folders.sync(path_.parent_path());
}

}  // namespace creni::ingest
