#include "creni/common/content_hash.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "creni/common/sha256.hpp"

namespace creni {

Result<std::string> sha256_of_file(const std::filesystem::path& path, std::uint64_t from_offset) {
  // O_NONBLOCK: a FIFO put in the file's place must not block the caller; fstat then refuses it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    const int error_number = errno;
    return make_error(error_number == EACCES ? "unreadable" : "io_error",
                      "cannot open " + path.string() + ": " + std::strerror(error_number));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return make_error("not_regular_file", path.string() + " is not a regular file");
  }
  if (from_offset > 0 && ::lseek(fd, static_cast<off_t>(from_offset), SEEK_SET) < 0) {
    const int error_number = errno;
    ::close(fd);
    return make_error("io_error", "cannot seek in " + path.string() + ": " + std::strerror(error_number));
  }
  Sha256 digest;
  std::vector<unsigned char> buffer(1 << 16);
  while (true) {
    const ssize_t n = ::read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int error_number = errno;
      ::close(fd);
      return make_error("io_error", "cannot read " + path.string() + ": " + std::strerror(error_number));
    }
    if (n == 0) break;
    digest.update(buffer.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return digest.hex_digest();
}

}  // namespace creni
