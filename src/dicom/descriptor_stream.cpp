#include "descriptor_stream.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace creni::dicom {

DescriptorProducer::DescriptorProducer(int fd, std::uint64_t hash_from, Sha256& hash)
    : fd_(fd), hashed_(hash_from), hash_(hash) {
  struct stat info {};
  if (::fstat(fd_, &info) != 0) {
    status_ = EC_InvalidStream;
    return;
  }
  size_ = static_cast<std::uint64_t>(info.st_size);
}

offile_off_t DescriptorProducer::read(void* buf, offile_off_t buflen) {
  if (status_.bad() || buflen <= 0 || position_ >= size_) return 0;
  const auto wanted = static_cast<std::size_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(buflen), size_ - position_));
  auto* out = static_cast<unsigned char*>(buf);
  std::size_t got = 0;
  while (got < wanted) {
    const ssize_t n = ::pread(fd_, out + got, wanted - got, static_cast<off_t>(position_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status_ = EC_InvalidStream;
      break;
    }
    if (n == 0) {
      size_ = position_ + got;  // the file was cut short since: what is left of it is all there is
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  // Bytes are hashed the first time they pass; a putback and a second read do not count them twice.
  const std::uint64_t end = position_ + got;
  if (position_ <= hashed_ && end > hashed_) {
    hash_.update(out + (hashed_ - position_), static_cast<std::size_t>(end - hashed_));
    hashed_ = end;
  }
  position_ = end;
  return static_cast<offile_off_t>(got);
}

offile_off_t DescriptorProducer::skip(offile_off_t skiplen) {
  // Skipped bytes are read all the same, so that the hash covers them.
  std::vector<unsigned char> scratch(static_cast<std::size_t>(std::min<offile_off_t>(skiplen, 1 << 16)));
  offile_off_t skipped = 0;
  while (skipped < skiplen) {
    const offile_off_t n =
        read(scratch.data(), std::min<offile_off_t>(skiplen - skipped, static_cast<offile_off_t>(scratch.size())));
    if (n <= 0) break;
    skipped += n;
  }
  return skipped;
}

void DescriptorProducer::putback(offile_off_t num) {
  const auto back = static_cast<std::uint64_t>(std::max<offile_off_t>(num, 0));
  if (back > position_) {
    status_ = EC_PutbackFailed;
    return;
  }
  position_ -= back;
}

bool DescriptorProducer::finish() {
  std::vector<unsigned char> scratch(1 << 16);
  position_ = std::max(position_, hashed_ <= size_ ? hashed_ : size_);
  while (position_ < size_ && status_.good()) {
    if (read(scratch.data(), static_cast<offile_off_t>(scratch.size())) <= 0) break;
  }
  return status_.good();
}

DescriptorInputStream::DescriptorInputStream(int fd, std::uint64_t hash_from, Sha256& hash)
    : DcmInputStream(&producer_), producer_(fd, hash_from, hash) {}

}  // namespace creni::dicom
