#pragma once

#include <filesystem>
#include <string>

#include "creni/common/atomic_file.hpp"
#include "creni/common/result.hpp"

namespace creni::ingest {

/// One received data set on its way through the spool: written straight to "<dir>/<unique>.dcm", made durable
/// (fsync of the file, then of the folder), then handed to the ArrivalSink. No rename is needed: a spool file
/// counts only once the journal has a row for it, and start-up removes every spool file without one (complete
/// or not), so a reader never takes a partial file for a received one. Whatever still belongs to us is removed on
/// destruction, so an aborted association or a refused image leaves no debris. Names are unique within the process
/// and across restarts (time, process id, counter); nothing in them comes from the peer. The file is created with
/// O_EXCL and O_NOFOLLOW when the object is made, so the name never belongs to an existing file or link. Not
/// thread-safe: one object per C-STORE.
class SpoolFile {
 public:
  explicit SpoolFile(const std::filesystem::path& spool_dir);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  /// Makes the written file and its folder entry durable; `folders` lets associations that finish together share
  /// the folder's fsync. Error "io_error".
  [[nodiscard]] Status make_durable(fs::FolderSyncer& folders) const;

  /// Ownership passed to someone else (the sink): the destructor leaves the file alone.
  void release() { owned_ = false; }

 private:
  bool owned_ = false;  // before path_: set while path_ is reserved
  std::filesystem::path path_;
};

}  // namespace creni::ingest
