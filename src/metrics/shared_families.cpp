#include "shared_families.hpp"

#include <prometheus/registry.h>

namespace creni::metrics {

prometheus::Family<prometheus::Histogram>& processing_seconds_family(Registry& registry) {
  return prometheus::BuildHistogram()
      .Name("creni_processing_seconds")
      .Help("Time per image of each step (worker: the worker's whole round trip; infer: the model; forward: one "
            "C-STORE attempt)")
      .Register(registry.prometheus());
}

}  // namespace creni::metrics
