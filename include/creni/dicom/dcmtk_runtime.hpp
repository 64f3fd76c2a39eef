#pragma once

#include "creni/common/result.hpp"

namespace creni::dicom {

/// Owns the process-wide dcmdata settings: the JPEG, JPEG-LS and RLE decoders, the data dictionary check and
/// DCMTK's own logging level (network globals belong to the network modules). Create exactly one, in main() before any thread starts,
/// and keep it alive until all threads have stopped; the destructor deregisters the codecs.
/// Not thread-safe to construct or destroy; everything DCMTK does while it lives may run on any thread.
class DcmtkRuntime {
 public:
  DcmtkRuntime();
  ~DcmtkRuntime();
  DcmtkRuntime(const DcmtkRuntime&) = delete;
  DcmtkRuntime& operator=(const DcmtkRuntime&) = delete;

  /// Error{"dictionary_missing", ...} when DCMTK's data dictionary could not be loaded (tags would have no VR).
  [[nodiscard]] Status check() const;
};

}  // namespace creni::dicom
