#pragma once

#include <string_view>

#include "creni/metrics/prometheus_types.hpp"

namespace creni::metrics {

class Registry;

/// The network door's associations: creni_scp_associations_total{result}. Thread-safe; the registry must outlive it.
class ScpMetrics {
 public:
  explicit ScpMetrics(Registry& registry);

  /// One association ended. `how` is the session's own account ("released", "aborted by peer", "rejected: ...",
  /// "busy", ...); its first word becomes the label: released, aborted, rejected, busy, or failed for anything else.
  void association_ended(std::string_view how);

 private:
  prometheus::Family<prometheus::Counter>& associations_;
};

}  // namespace creni::metrics
