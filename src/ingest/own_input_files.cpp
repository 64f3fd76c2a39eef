#include "creni/ingest/own_input_files.hpp"

namespace creni::ingest {

void OwnInputFiles::add(const std::filesystem::path& file, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  // Expired entries go in one pass every kKeep / 2, so at most 1.5 kKeep of additions are ever remembered.
  if (now >= next_expiry_) {
    for (auto it = files_.begin(); it != files_.end();) {
      it = now - it->second >= kKeep ? files_.erase(it) : std::next(it);
    }
    next_expiry_ = now + kKeep / 2;
  }
  if (files_.size() >= kMaxRemembered) files_.clear();
  files_.insert_or_assign(file.string(), now);
}

bool OwnInputFiles::claim(const std::string& file) {
  const std::lock_guard lock(mutex_);
  return files_.erase(file) > 0;
}

std::size_t OwnInputFiles::size() const {
  const std::lock_guard lock(mutex_);
  return files_.size();
}

}  // namespace creni::ingest
