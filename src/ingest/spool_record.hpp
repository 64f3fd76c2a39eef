#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "creni/common/result.hpp"

namespace creni::ingest {

/// What a spool file's preamble records about its arrival (spooled_arrival.hpp). Plain value.
struct SpoolRecord {
  std::string gateway_id;    ///< at most 32 characters (config::is_valid_gateway_id)
  std::string association;   ///< at most 46 characters
  std::uint64_t file_size = 0;
  std::string content_hash;  ///< SHA-256 of the data set, 64 lowercase hex digits
};

/// Writes `record` over the 128-byte preamble of the open spool file `fd` (pwrite at offset 0). Error "io_error";
/// "invalid_record" when a field does not fit.
[[nodiscard]] Status write_spool_record(int fd, const SpoolRecord& record);

/// The record in the preamble of the open file `fd`, unchecked against the file (see recover_spooled_arrival);
/// nothing when the preamble holds none.
[[nodiscard]] std::optional<SpoolRecord> read_spool_record(int fd);

}  // namespace creni::ingest
