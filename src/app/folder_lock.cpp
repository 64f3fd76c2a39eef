#include "folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace creni::app {

namespace {

// The pid that holds a FLOCK on this inode, from /proc/locks ("1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF");
// 0 when it cannot be told.
long flock_holder(const struct stat& info) {
  std::ifstream locks("/proc/locks");
  std::ostringstream wanted;
  wanted << std::hex;
  for (std::string line; std::getline(locks, line);) {
    std::istringstream fields(line);
    std::string ordinal, kind, mode, access, device_inode;
    long pid = 0;
    if (!(fields >> ordinal >> kind)) continue;
    if (kind == "->") fields >> kind;  // a waiter, listed under the holder
    if (!(fields >> mode >> access >> pid >> device_inode) || kind != "FLOCK") continue;
    // "maj:min:inode", major and minor in hex, inode in decimal.
    unsigned major_number = 0, minor_number = 0;
    unsigned long long inode = 0;
    if (std::sscanf(device_inode.c_str(), "%x:%x:%llu", &major_number, &minor_number, &inode) != 3) continue;
    if (major_number == major(info.st_dev) && minor_number == minor(info.st_dev) && inode == info.st_ino) return pid;
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<FolderLock>> FolderLock::acquire(const std::filesystem::path& folder,
                                                        const std::string& file_name, const std::string& what,
                                                        bool shared) {
  const auto path = file_name.empty() ? folder : folder / file_name;
  const int fd = file_name.empty() ? ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                                   : ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return make_error("io_error", "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    struct stat info {};
    const long holder = ::fstat(fd, &info) == 0 ? flock_holder(info) : 0;
    ::close(fd);
    return make_error("locked", "another creni-node" + (holder > 0 ? " (pid " + std::to_string(holder) + ")" : "") +
                                    " uses the " + what + " " + folder.string());
  }
  return std::unique_ptr<FolderLock>(new FolderLock(fd));
}

FolderLock::~FolderLock() { ::close(fd_); }

}  // namespace creni::app
