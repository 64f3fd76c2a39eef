#pragma once

#include <filesystem>
#include <string>

#include "creni/common/folder_syncer.hpp"
#include "creni/common/owned_fd.hpp"
#include "creni/common/result.hpp"
#include "spool_pool.hpp"
#include "spool_record.hpp"

namespace creni::ingest {

/// One received data set on its way through the spool: written straight to "<dir>/<unique>.dcm" (a file taken
/// from the SpoolPool, opened once: meta header, data set, record and sync all go through one descriptor), sealed (its arrival record written into the preamble, then one fdatasync that makes image
/// and record durable together), then handed to the ArrivalSink. No rename is needed: a spool file counts only once
/// the journal has a row for it or, after a crash, once its record checks out (recover_spooled_arrival); start-up
/// removes every other spool file, so a reader never takes a partial file for a received one. Whatever still belongs
/// to us is removed on destruction, so an aborted association or a refused image leaves no debris. Not thread-safe:
/// one object per C-STORE.
class SpoolFile {
 public:
  explicit SpoolFile(SpoolPool::Taken taken);
  ~SpoolFile();
  SpoolFile(const SpoolFile&) = delete;
  SpoolFile& operator=(const SpoolFile&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  /// The file open for writing at offset 0; -1 when there is no file or it could not be opened (open_error()).
  [[nodiscard]] int fd() const { return fd_.get(); }
  /// Why the file could not be opened (strerror); empty when it is open or there is none.
  [[nodiscard]] const std::string& open_error() const { return open_error_; }

  /// Writes `record` (its file_size filled in here) into the preamble and makes the file durable with one
  /// fdatasync; when the pool could not supply a file whose name was durable already, the folder is synced too
  /// (`folders` lets associations that finish together share that fsync). Errors "io_error", "invalid_record".
  [[nodiscard]] Status seal(SpoolRecord record, fs::FolderSyncer& folders) const;

  /// Ownership passed to someone else (the sink): the destructor leaves the file alone.
  void release() { owned_ = false; }

 private:
  std::filesystem::path path_;
  fs::OwnedFd fd_;
  std::string open_error_;
  bool name_durable_ = false;
  bool owned_ = false;
};

}  // namespace creni::ingest
