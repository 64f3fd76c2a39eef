#include "creni/ingest/own_input_files.hpp"

namespace creni::ingest {

void OwnInputFiles::add(const std::filesystem::path& file) {
  const std::lock_guard lock(mutex_);
  if (files_.size() >= kMaxRemembered) files_.clear();
  files_.insert(file.string());
}

bool OwnInputFiles::claim(const std::string& file) {
  const std::lock_guard lock(mutex_);
  return files_.erase(file) > 0;
}

}  // namespace creni::ingest
