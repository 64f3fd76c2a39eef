#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni::dicom {

/// The identifying values of a Part 10 file's meta information (PS3.10 section 7.1).
struct MetaIdentity {
  std::string media_storage_sop_class_uid;     ///< (0002,0002)
  std::string media_storage_sop_instance_uid;  ///< (0002,0003)
  std::string transfer_syntax_uid;             ///< (0002,0010)
  std::uint64_t dataset_offset = 0;            ///< where the data set starts: preamble, "DICM" and the meta group
};

/// Reads only the preamble and the group 0002 meta elements (always Explicit VR Little Endian), at most 64 KiB,
/// without DCMTK: the node process uses it to recognise an instance (duplicates, conflicts) without parsing the
/// data set, which only worker processes do. UIDs are returned validated (uid::validated) or empty when absent.
/// Errors: "not_part10" (no "DICM" prefix or no meta group), "malformed_meta" (an element overruns the file or the
/// limit, or a UID is not valid), "io_error" (cannot open; symbolic links are refused).
[[nodiscard]] Result<MetaIdentity> read_meta_identity(const std::filesystem::path& file);
/// read_meta_identity() of an open file, read with pread (the descriptor's offset is not moved).
[[nodiscard]] Result<MetaIdentity> read_meta_identity(int fd);

}  // namespace creni::dicom
