#pragma once

#include <string>

namespace creni::metrics {

/// Whether the Prometheus text exposition `text` has `line` as one whole line.
inline bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

}  // namespace creni::metrics
