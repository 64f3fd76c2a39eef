#include "creni/common/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

namespace creni::fs {

namespace {

Error io_error(const std::string& what, const std::filesystem::path& path, int error_number) {
  return make_error("io_error", what + " " + path.string() + ": " + std::strerror(error_number));
}

// Closes a descriptor on every path out of a function.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  // Returns close()'s own result: on NFS and some file systems a deferred write error surfaces only here.
  int close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

Status sync_path(const std::filesystem::path& path, int flags) {
  FileDescriptor fd(::open(path.c_str(), flags | O_CLOEXEC));
  if (!fd.valid()) return io_error("cannot open for fsync", path, errno);
  if (::fsync(fd.get()) != 0) return io_error("fsync failed for", path, errno);
  return {};
}

}  // namespace

bool is_temp_name(std::string_view name) {
  return name.size() > kTempSuffix.size() && name.substr(name.size() - kTempSuffix.size()) == kTempSuffix;
}

std::filesystem::path temp_path_for(const std::filesystem::path& final_path) {
  static std::atomic<unsigned long> counter{0};
  std::string name = "." + final_path.filename().string() + "." + std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1)) + std::string(kTempSuffix);
  return final_path.parent_path() / name;
}

namespace {

// Whether `name` is temp_path_for()'s name for process `pid`: ".<final name>.<pid>.<counter>.creni-tmp".
bool is_temp_name_of(const std::string& name, const std::string& pid) {
  if (!is_temp_name(name) || name.front() != '.') return false;
  std::string rest = name.substr(0, name.size() - kTempSuffix.size());
  const auto counter_dot = rest.rfind('.');
  if (counter_dot == std::string::npos || counter_dot + 1 == rest.size()) return false;
  if (rest.find_first_not_of("0123456789", counter_dot + 1) != std::string::npos) return false;
  rest.resize(counter_dot);
  const std::string ending = "." + pid;
  return rest.size() > ending.size() && rest.compare(rest.size() - ending.size(), ending.size(), ending) == 0;
}

void remove_temp_files_in(const std::filesystem::path& folder, const std::string& pid, int depth, std::size_t& removed) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code kind;
    if (it->is_directory(kind) && !it->is_symlink(kind)) {
      if (depth > 0) remove_temp_files_in(it->path(), pid, depth - 1, removed);
      continue;
    }
    std::error_code removal;
    if (is_temp_name_of(it->path().filename().string(), pid) && std::filesystem::remove(it->path(), removal)) {
      ++removed;
    }
  }
}

}  // namespace

std::size_t remove_temp_files_of(const std::filesystem::path& root, long pid, int depth) {
  std::size_t removed = 0;
  remove_temp_files_in(root, std::to_string(pid), depth, removed);
  return removed;
}

Status sync_file(const std::filesystem::path& file) { return sync_path(file, O_RDONLY | O_NOFOLLOW); }

Status sync_directory(const std::filesystem::path& directory) {
  return sync_path(directory.empty() ? std::filesystem::path(".") : directory, O_RDONLY | O_DIRECTORY);
}

Status commit_file(const std::filesystem::path& temp_path, const std::filesystem::path& final_path,
                   FolderSync folder_sync) {
  auto fail = [&](Error error) -> Status {
    ::unlink(temp_path.c_str());
    return error;
  };
  if (Status synced = sync_file(temp_path); !synced) return fail(synced.error());
  if (::rename(temp_path.c_str(), final_path.c_str()) != 0) return fail(io_error("rename failed to", final_path, errno));
  if (folder_sync == FolderSync::by_caller) return {};
  return sync_directory(final_path.parent_path());
}

bool write_all(int fd, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, bytes + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

Status write_file_atomically(const std::filesystem::path& final_path, std::string_view bytes) {
  const std::filesystem::path temp = temp_path_for(final_path);
  FileDescriptor fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid()) return io_error("cannot create", temp, errno);
  if (!write_all(fd.get(), bytes.data(), bytes.size())) {
    const int error_number = errno;
    ::unlink(temp.c_str());
    return io_error("write failed to", temp, error_number);
  }
  if (::fsync(fd.get()) != 0 || fd.close() != 0) {
    const int error_number = errno;
    ::unlink(temp.c_str());
    return io_error("fsync failed for", temp, error_number);
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    const int error_number = errno;
    ::unlink(temp.c_str());
    return io_error("rename failed to", final_path, error_number);
  }
  return sync_directory(final_path.parent_path());
}

Status create_directories_durably(const std::filesystem::path& directory) {
  std::vector<std::filesystem::path> missing;
  for (std::filesystem::path p = directory; !p.empty() && !std::filesystem::exists(p); p = p.parent_path()) {
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return make_error("io_error", "cannot create directory " + directory.string() + ": " + ec.message());
  for (const auto& created : missing) {
    if (Status s = sync_directory(created.parent_path()); !s) return s;
  }
  return {};
}

}  // namespace creni::fs
