#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcostrmf.h>

#include <cstdint>
#include <memory>
#include <string>

#include "creni/common/content_hash.hpp"
#include "creni/common/result.hpp"

namespace creni::ingest {

/// Where DCMTK writes the bytes of one received data set: written to an open spool file after its meta header, up
/// to a size limit, or thrown away. Past the limit (scp.max_dataset_mb) the file is emptied at once and the rest of the data set is counted
/// but not stored, so a peer can never fill the spool with one data set, the association stays in step and the
/// C-STORE can still be answered. Every byte passes through here, so DCMTK's progress callback keeps reporting
/// while a refused data set is read off the wire (the transfer-rate watchdog needs that). Not thread-safe.
class DatasetSink {
 public:
  /// Writes `head` (preamble and meta group: not hashed, not counted against the limit) and then at most `limit`
  /// data set bytes to `fd` from its current offset on; `fd` stays the caller's and must outlive the sink. Error
  /// "io_error" (the head cannot be written).
  [[nodiscard]] static Result<std::unique_ptr<DatasetSink>> writing_to(int fd, const std::string& head,
                                                                      std::uint64_t limit);
  /// Stores nothing: for data sets refused before they arrive.
  [[nodiscard]] static Result<std::unique_ptr<DatasetSink>> discarding();
  ~DatasetSink();
  DatasetSink(const DatasetSink&) = delete;
  DatasetSink& operator=(const DatasetSink&) = delete;

  /// The stream to give DIMSE_receiveDataSetInFile.
  [[nodiscard]] DcmOutputStream& stream() { return *stream_; }
  /// Flushes and closes; false when a write failed (disk full) at any point.
  [[nodiscard]] bool close();
  /// Whether the data set grew past the limit (nothing of it is kept then).
  [[nodiscard]] bool exceeded() const { return state_.exceeded; }
  /// SHA-256 of the data set bytes stored, as 64 lowercase hex digits (the journal's content hash, computed while
  /// the bytes pass instead of reading the file again); after close(), once.
  [[nodiscard]] std::string content_hash() { return hash_.hex_digest(); }

  /// The cookie behind the FILE* DCMTK writes to (glibc fopencookie).
  struct State {
    int fd = -1;  // -1: discard everything
    std::uint64_t limit = 0;
    std::uint64_t written = 0;
    bool exceeded = false;
    bool failed = false;
    Sha256* hash = nullptr;  // every stored byte, in order
  };

 private:
  DatasetSink(int fd, std::uint64_t limit);
  [[nodiscard]] bool open_stream();

  Sha256 hash_;
  State state_;
  std::unique_ptr<DcmOutputFileStream> stream_;
  bool closed_ = false;
};

}  // namespace creni::ingest
