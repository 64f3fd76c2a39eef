#pragma once

#include <string>
#include <vector>

namespace creni::http {

/// Whether the node can take images now, and if not, why (one short sentence per failed condition).
struct Readiness {
  std::vector<std::string> reasons;  ///< empty = ready

  [[nodiscard]] bool ready() const { return reasons.empty(); }
};

}  // namespace creni::http
