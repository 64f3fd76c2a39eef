// What lstat says about a path the folder watcher considers: its kind, size, modification time, links, inode.

#include <sys/stat.h>

#include <cerrno>
#include <climits>

#include "folder_watch_loop.hpp"

namespace creni::ingest::detail {

Kind stamp_of(const std::string& path, FileStamp& stamp) {
  struct stat info {};
  if (path.size() >= PATH_MAX) return Kind::too_long;
  if (::lstat(path.c_str(), &info) != 0) return errno == ENAMETOOLONG ? Kind::too_long : Kind::gone;
  // FIFOs, devices and sockets are never opened: a FIFO without a writer blocks whoever opens it.
  if (!S_ISREG(info.st_mode) && !S_ISLNK(info.st_mode)) return Kind::other;
  stamp.size = info.st_size;
  stamp.mtime_ns = static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  stamp.is_symlink = S_ISLNK(info.st_mode);
  stamp.is_extra_link = S_ISREG(info.st_mode) && info.st_nlink > 1;
  stamp.identity.device = static_cast<std::uint64_t>(info.st_dev);
  stamp.identity.inode = static_cast<std::uint64_t>(info.st_ino);
  return Kind::regular_or_link;
}

bool stamp_of_file(const std::string& path, FileStamp& stamp) { return stamp_of(path, stamp) == Kind::regular_or_link; }

}  // namespace creni::ingest::detail
