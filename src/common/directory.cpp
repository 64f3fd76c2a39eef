#include "creni/common/directory.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "creni/common/atomic_file.hpp"

namespace creni::fs {

namespace {

Error io_error(const std::string& what, const std::filesystem::path& path, int error_number) {
  return make_error("io_error", what + " " + path.string() + ": " + std::strerror(error_number));
}

// Why `name` in `parent` could not be opened as a folder: a symbolic link (never followed), or anything else.
Error refused_component(int parent, const std::string& name, const std::filesystem::path& path, int error_number) {
  struct stat info {};
  if (::fstatat(parent, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(info.st_mode)) {
    return make_error("symlink", path.string() + " is a symbolic link: never followed");
  }
  return io_error("cannot open folder", path, error_number);
}

constexpr int kDirectoryFlags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;

}  // namespace

Result<Directory> Directory::open_root(const std::filesystem::path& root, bool create) {
  if (create) {
    if (Status made = create_directories_durably(root); !made) return made.error();
  }
  OwnedFd fd(::open(root.empty() ? "." : root.c_str(), kDirectoryFlags));
  if (!fd.valid()) return io_error("cannot open folder", root, errno);
  return Directory(std::move(fd), root);
}

Result<Directory> Directory::open_beneath(const std::filesystem::path& root, const std::filesystem::path& relative,
                                          bool create) {
  if (relative.is_absolute()) return make_error("invalid_path", relative.string() + " is not relative");
  auto current = open_root(root, create);
  if (!current) return current.error();
  for (const auto& component : relative) {
    const std::string name = component.string();
    if (name.empty() || name == ".") continue;
    if (name == "..") return make_error("invalid_path", relative.string() + " leaves its root");
    const std::filesystem::path path = current->path_ / name;
    bool made = false;
    if (create) {
      if (::mkdirat(current->fd(), name.c_str(), 0755) == 0) {
        made = true;
      } else if (errno != EEXIST) {
        return io_error("cannot create folder", path, errno);
      }
    }
    OwnedFd next(::openat(current->fd(), name.c_str(), kDirectoryFlags | O_NOFOLLOW));
    if (!next.valid()) return refused_component(current->fd(), name, path, errno);
    // A new folder's entry lives in its parent: the parent's fsync makes it survive a power cut.
    if (made) {
      if (Status synced = current->sync(); !synced) return synced.error();
    }
    current = Directory(std::move(next), path);
  }
  return current;
}

Result<OwnedFd> open_regular_file(const std::filesystem::path& path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer that may never come.
  OwnedFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    const int error_number = errno;
    if (error_number == ELOOP) return make_error("symlink", path.string() + " is a symbolic link: never followed");
    if (error_number == ENOENT) return make_error("input_vanished", path.string() + " disappeared before it was read");
    return make_error(error_number == EACCES ? "unreadable" : "io_error",
                      "cannot open " + path.string() + ": " + std::strerror(error_number));
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return io_error("cannot stat", path, errno);
  if (!S_ISREG(info.st_mode)) {
    return make_error("not_regular_file", path.string() + " is a FIFO, device or socket, not a regular file: never read");
  }
  // Reads from a regular file never block; the descriptor goes back to ordinary blocking mode for DCMTK's sake.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

Result<OwnedFd> Directory::open_regular_file(const std::string& name) const {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer that may never come.
  OwnedFd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    const int error_number = errno;
    if (error_number == ELOOP) return make_error("symlink", (path_ / name).string() + " is a symbolic link");
    if (error_number == ENOENT) {
      return make_error("input_vanished", (path_ / name).string() + " disappeared before it was read");
    }
    return io_error("cannot open", path_ / name, error_number);
  }
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0) return io_error("cannot stat", path_ / name, errno);
  if (!S_ISREG(info.st_mode)) {
    return make_error("not_regular_file",
                      (path_ / name).string() + " is a FIFO, device or socket, not a regular file: never read");
  }
  // Reads from a regular file never block; the descriptor goes back to ordinary blocking mode for DCMTK's sake.
  ::fcntl(fd.get(), F_SETFL, ::fcntl(fd.get(), F_GETFL) & ~O_NONBLOCK);
  return fd;
}

Result<OwnedFd> Directory::create_file(const std::string& name) const {
  OwnedFd fd(::openat(fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    if (errno == EEXIST) return make_error("exists", (path_ / name).string() + " already exists");
    return io_error("cannot create", path_ / name, errno);
  }
  return fd;
}

Status Directory::rename(const std::string& from, const std::string& to, Replace replace) const {
  const unsigned int flags = replace == Replace::never ? RENAME_NOREPLACE : 0;
  if (::renameat2(fd_.get(), from.c_str(), fd_.get(), to.c_str(), flags) == 0) return {};
  if (errno == EEXIST) return make_error("exists", (path_ / to).string() + " already exists");
  return io_error("rename failed to", path_ / to, errno);
}

Status Directory::link_from(const std::filesystem::path& source, const std::string& to) const {
  if (::linkat(AT_FDCWD, source.c_str(), fd_.get(), to.c_str(), 0) == 0) return {};
  if (errno == EEXIST) return make_error("exists", (path_ / to).string() + " already exists");
  if (errno == EXDEV) return make_error("cross_device", (path_ / to).string() + " is on another file system");
  return io_error("cannot link " + source.string() + " to", path_ / to, errno);
}

Status Directory::copy_in(int source, const std::string& name) const {
  const std::string temp = temp_path_for(path_ / name).filename().string();
  auto target = create_file(temp);
  if (!target) return target.error();
  std::vector<char> buffer(1 << 16);
  auto fail = [&](Error error) -> Status {
    remove(temp);
    return error;
  };
  while (true) {
    const ssize_t n = ::read(source, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(io_error("cannot read the source of", path_ / name, errno));
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(target->get(), buffer.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return fail(io_error("write failed to", path_ / temp, errno));
      done += w;
    }
  }
  if (::fsync(target->get()) != 0) return fail(io_error("fsync failed for", path_ / temp, errno));
  if (Status renamed = rename(temp, name, Replace::never); !renamed) return fail(renamed.error());
  return sync();
}

Status Directory::sync_file(const std::string& name) const {
  OwnedFd fd(::openat(fd_.get(), name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open for fsync", path_ / name, errno);
  if (::fsync(fd.get()) != 0) return io_error("fsync failed for", path_ / name, errno);
  return {};
}

Status Directory::sync() const {
  if (::fsync(fd_.get()) != 0) return io_error("fsync failed for", path_, errno);
  return {};
}

void Directory::remove(const std::string& name) const { ::unlinkat(fd_.get(), name.c_str(), 0); }

}  // namespace creni::fs
