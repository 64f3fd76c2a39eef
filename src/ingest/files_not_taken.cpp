#include "creni/ingest/files_not_taken.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

using detail::logger;  // the module's logger (ingest_logger.hpp)

}  // namespace

bool FilesNotTaken::note(const std::string& path, std::string_view reason, std::string_view detail) {
  const std::lock_guard lock(mutex_);
  if (!noted_.emplace(path, std::string(reason)).second) return false;
  ++counts_[std::string(reason)];
  ++total_;
  log_line(path, reason, detail);
  return true;
}

void FilesNotTaken::log_line(const std::string& path, std::string_view reason, std::string_view detail) {
  const auto now = Clock::now();
  if (now - minute_start_ >= std::chrono::minutes(1)) {
    if (suppressed_ > 0) {
      logger()->warn("{} more file(s) not taken in the last minute (see `creni-node status`)", suppressed_);
    }
    minute_start_ = now;
    lines_this_minute_ = 0;
    suppressed_ = 0;
  }
  if (lines_this_minute_ >= max_lines_per_minute_) {
    ++suppressed_;
    return;
  }
  ++lines_this_minute_;
  if (detail.empty()) {
    logger()->warn("file not taken: {}: {}", reason, path);
  } else {
    logger()->warn("file not taken: {}: {} ({})", reason, path, detail);
  }
}

void FilesNotTaken::forget(const std::string& path) {
  const std::lock_guard lock(mutex_);
  for (auto it = noted_.lower_bound({path, std::string()}); it != noted_.end() && it->first == path;) {
    it = noted_.erase(it);
  }
}

void FilesNotTaken::forget_missing() {
  const std::lock_guard lock(mutex_);
  for (auto it = noted_.begin(); it != noted_.end();) {
    struct stat info {};
    it = ::lstat(it->first.c_str(), &info) == 0 ? std::next(it) : noted_.erase(it);
  }
}

std::uint64_t FilesNotTaken::total() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

std::map<std::string, std::uint64_t> FilesNotTaken::by_reason() const {
  const std::lock_guard lock(mutex_);
  return counts_;
}

}  // namespace creni::ingest
