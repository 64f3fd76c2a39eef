#include "spool_file.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "creni/common/atomic_file.hpp"

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

SpoolFile::SpoolFile(const std::filesystem::path& spool_dir) {
  const std::string stem = unique_stem();
  temp_path_ = spool_dir / (stem + std::string(fs::kTempSuffix));
  final_path_ = spool_dir / (stem + ".dcm");
}

SpoolFile::~SpoolFile() {
  if (!owned_) return;
  // unlink, not std::filesystem::remove: a destructor must not throw, and a missing file is fine.
  ::unlink(temp_path_.c_str());
  if (published_) ::unlink(final_path_.c_str());
}

Status SpoolFile::publish() {
  Status committed = fs::commit_file(temp_path_, final_path_);
  if (committed) {
    published_ = true;
  } else {
    // The rename may have happened before the directory fsync failed; the name is ours alone, so remove it.
    ::unlink(final_path_.c_str());
  }
  return committed;
}

}  // namespace creni::ingest
