#pragma once

#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni::ingest {

/// One received data set on its way through the spool: written as "<dir>/<unique>.creni-tmp", published as
/// "<dir>/<unique>.dcm" (fsync, rename, fsync of the directory), then handed to the ArrivalSink. Whatever still
/// belongs to us is removed on destruction, so an aborted association or a refused image leaves no debris.
/// Names are unique within the process and across restarts (time, process id, counter); nothing in them comes
/// from the peer. Not thread-safe: one object per C-STORE.
class SpoolFile {
 public:
  explicit SpoolFile(const std::filesystem::path& spool_dir);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  /// Where the data set is being written.
  [[nodiscard]] const std::filesystem::path& temp_path() const { return temp_path_; }
  /// The published file (valid after publish()).
  [[nodiscard]] const std::filesystem::path& final_path() const { return final_path_; }

  /// Makes the written file durable under its final name. Error "io_error"; the temporary file is gone then.
  [[nodiscard]] Status publish();

  /// Ownership passed to someone else (the sink): the destructor leaves the file alone.
  void release() { owned_ = false; }

 private:
  std::filesystem::path temp_path_;
  std::filesystem::path final_path_;
  bool published_ = false;
  bool owned_ = true;
};

}  // namespace creni::ingest
