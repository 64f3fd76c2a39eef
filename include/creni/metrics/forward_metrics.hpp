#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "creni/metrics/prometheus_types.hpp"

namespace creni::metrics {

class Registry;

/// Forwarding: creni_forwards_total{destination, outcome}, creni_processing_seconds{step="forward"} and
/// creni_arrival_to_forwarded_seconds{gateway} (histograms). Thread-safe; the registry must outlive it.
class ForwardMetrics {
 public:
  explicit ForwardMetrics(Registry& registry);

  /// One forward attempt ended with `outcome` ("done", "forward_failed", "forward_unknown") after `attempt_seconds`.
  /// `seconds_since_arrival`: for a successful forward, how long after its arrival was recorded (nullopt: unknown).
  void forwarded(const std::string& destination, const std::string& gateway, std::string_view outcome,
                 double attempt_seconds, std::optional<double> seconds_since_arrival);

 private:
  prometheus::Family<prometheus::Counter>& forwards_;
  prometheus::Family<prometheus::Histogram>& steps_;
  prometheus::Family<prometheus::Histogram>& to_forwarded_;
};

}  // namespace creni::metrics
