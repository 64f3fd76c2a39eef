#pragma once

#include <string_view>

namespace creni {

/// Fault injection for the crash tests (RELIABILITY.md C1), inert in normal operation. When the environment
/// variable CRENI_CRASH_AT names this point and the file named by CRENI_CRASH_MARKER does not exist yet, the
/// process creates that file and kills itself with SIGKILL right here, as a power cut or `kill -9` would. The
/// marker makes it happen once, so that the restarted node runs on. Named points are listed in README.md.
void crash_point(std::string_view name);

}  // namespace creni
