#pragma once

#include <string_view>

namespace creni::ingest {

/// True when a file name in an INPUT folder may be an image: not a temporary or hidden name (".*", "*.tmp",
/// "*.part", "*.partial", our own ".creni-tmp"), not the gateway's tag index ("image.db" and its "-wal", "-shm",
/// "-journal" companions). Writers that write-then-rename use exactly such names while a file is incomplete.
[[nodiscard]] bool is_candidate_input_name(std::string_view file_name);

}  // namespace creni::ingest
