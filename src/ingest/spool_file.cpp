#include "spool_file.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>

namespace creni::ingest {

namespace {

std::string unique_stem() {
  static std::atomic<unsigned long> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now).count();
  return "scp-" + std::to_string(micros) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

SpoolFile::SpoolFile(const std::filesystem::path& spool_dir) : path_(spool_dir / (unique_stem() + ".dcm")) {}

SpoolFile::~SpoolFile() {
  // unlink, not std::filesystem::remove: a destructor must not throw, and a missing file is fine.
  if (owned_) ::unlink(path_.c_str());
}

Status SpoolFile::make_durable(fs::FolderSyncer& folders) const {
  if (Status synced = fs::sync_file(path_); !synced) return synced;
  return folders.sync(path_.parent_path());
}

}  // namespace creni::ingest
