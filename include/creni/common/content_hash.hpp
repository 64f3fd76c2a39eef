#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni {

/// SHA-256 of a file's bytes from `from_offset` on, as 64 lowercase hex digits. Opens with O_NOFOLLOW and
/// O_NONBLOCK and reads only a regular file. Errors "not_regular_file" (FIFO, device, socket, directory),
/// "unreadable" (permission denied), "io_error".
[[nodiscard]] Result<std::string> sha256_of_file(const std::filesystem::path& path, std::uint64_t from_offset = 0);

}  // namespace creni
