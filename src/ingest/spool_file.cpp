#include "spool_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "creni/common/crash_point.hpp"

namespace creni::ingest {

SpoolFile::SpoolFile(SpoolPool::Taken taken)
    : path_(std::move(taken.path)), name_durable_(taken.name_durable), owned_(!path_.empty()) {
  // The file is ours and empty: no O_TRUNC, which on ext4 also makes the first close start writing it back.
  if (owned_) fd_ = fs::OwnedFd(::open(path_.c_str(), O_WRONLY | O_NOFOLLOW | O_CLOEXEC));
  if (owned_ && !fd_.valid()) open_error_ = std::strerror(errno);
}

SpoolFile::~SpoolFile() {
  // unlink, not std::filesystem::remove: a destructor must not throw, and a missing file is fine.
  if (owned_) ::unlink(path_.c_str());
}

Status SpoolFile::seal(SpoolRecord record, fs::FolderSyncer& folders) const {
  if (!fd_.valid()) return make_error("io_error", path_.string() + " is not open");
  const int fd = fd_.get();
  struct stat info {};
  if (::fstat(fd, &info) != 0) return make_error("io_error", "cannot stat " + path_.string());
  record.file_size = static_cast<std::uint64_t>(info.st_size);
  if (Status written = write_spool_record(fd, record); !written) return written;
  crash_point("scp_spool_record_written");
  // One sync for the data set and its record: fdatasync also writes the size, which reading the file back needs.
  if (::fdatasync(fd) != 0) {
    return make_error("io_error", "cannot sync " + path_.string() + ": " + std::strerror(errno));
  }
  if (name_durable_) return {};
  return folders.sync(path_.parent_path());
}

}  // namespace creni::ingest
