#include "creni/metrics/scp_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include <array>

#include "creni/metrics/registry.hpp"

namespace creni::metrics {

namespace {

// A small fixed set of label values: free text from peers never becomes a label (unbounded series).
std::string result_label(std::string_view how) {
  constexpr std::array<std::string_view, 4> kKnown = {"released", "aborted", "rejected", "busy"};
  for (const std::string_view known : kKnown) {
    if (how.substr(0, known.size()) == known) return std::string(known);
  }
  return "failed";
}

}  // namespace

ScpMetrics::ScpMetrics(Registry& registry)
    : associations_(prometheus::BuildCounter()
                        .Name("creni_scp_associations_total")
                        .Help("SCP associations that ended, by result (released, aborted, rejected, busy, failed)")
                        .Register(registry.prometheus())) {}

void ScpMetrics::association_ended(std::string_view how) { associations_.Add({{"result", result_label(how)}}).Increment(); }

}  // namespace creni::metrics
