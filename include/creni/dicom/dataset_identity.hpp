#pragma once

#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni::dicom {

/// The SOP identity a Part 10 file's data set carries itself, as opposed to its meta information or the C-STORE
/// command that delivered it.
struct DatasetIdentity {
  std::string sop_class_uid;     ///< (0008,0016), padding stripped (uid::strip_padding), not validated; "" when absent
  std::string sop_instance_uid;  ///< (0008,0018), likewise
};

/// Reads the data set's own SOP Class and SOP Instance UIDs without DCMTK's parser: the meta group gives the
/// transfer syntax and where the data set starts, then at most the first 64 KiB of the data set (inflated first
/// when deflated) are walked element by element at the top level only, in tag order, until (0008,0018) is passed.
/// Never recurses and never reads pixel data, so a hostile file costs at most one bounded read.
/// Errors: "io_error" (cannot open or read; symbolic links are refused), "not_part10" (no "DICM" prefix or no
/// transfer syntax in the meta group), "malformed" (an element overruns the file, a top-level item, a bad VR) and
/// "undetermined" (an element of undefined length, such as a sequence, or one longer than the window comes before
/// the UIDs): then the caller decides whether to trust the command's UIDs.
/// Thread-safe (no shared state).
[[nodiscard]] Result<DatasetIdentity> read_dataset_identity(const std::filesystem::path& file);

}  // namespace creni::dicom
