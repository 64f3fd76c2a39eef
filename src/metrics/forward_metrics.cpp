#include "creni/metrics/forward_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "creni/metrics/registry.hpp"
#include "shared_families.hpp"

namespace creni::metrics {

ForwardMetrics::ForwardMetrics(Registry& registry)
    : forwards_(prometheus::BuildCounter()
                    .Name("creni_forwards_total")
                    .Help("Forward attempts by destination and outcome (done, forward_failed, forward_unknown)")
                    .Register(registry.prometheus())),
      steps_(processing_seconds_family(registry)),
      to_forwarded_(prometheus::BuildHistogram()
                        .Name("creni_arrival_to_forwarded_seconds")
                        .Help("From an arrival being recorded to its result being stored by a destination, by gateway")
                        .Register(registry.prometheus())) {}

void ForwardMetrics::forwarded(const std::string& destination, const std::string& gateway, std::string_view outcome,
                               double attempt_seconds, std::optional<double> seconds_since_arrival) {
  forwards_.Add({{"destination", destination}, {"outcome", std::string(outcome)}}).Increment();
  steps_.Add({{"step", "forward"}}, seconds_buckets()).Observe(attempt_seconds);
  if (seconds_since_arrival) to_forwarded_.Add({{"gateway", gateway}}, seconds_buckets()).Observe(*seconds_since_arrival);
}

}  // namespace creni::metrics
