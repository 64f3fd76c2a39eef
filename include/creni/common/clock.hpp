#pragma once

#include <chrono>
#include <cstdint>

namespace creni {

/// Wall-clock time as unix epoch milliseconds: the form the journal and the node's status snapshot record.
/// (Timeouts and windows use std::chrono::steady_clock instead.)
inline std::int64_t unix_time_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace creni
