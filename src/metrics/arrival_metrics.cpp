#include "creni/metrics/arrival_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

#include "creni/metrics/registry.hpp"

namespace creni::metrics {

ArrivalMetrics::ArrivalMetrics(Registry& registry)
    : arrivals_(prometheus::BuildCounter()
                    .Name("creni_arrivals_total")
                    .Help("Images handed to the node by a front door, by gateway, door and what the node did with them "
                          "(duplicates are counted apart)")
                    .Register(registry.prometheus())),
      duplicates_(prometheus::BuildCounter()
                      .Name("creni_duplicate_arrivals_total")
                      .Help("Instances the journal already had with the same bytes (a sender's repeat, the same "
                            "instance through both doors), by gateway and door")
                      .Register(registry.prometheus())),
      scp_bytes_(prometheus::BuildCounter()
                     .Name("creni_scp_received_bytes_total")
                     .Help("Bytes of instances received through the SCP (as kept: meta header and data set), by gateway")
                     .Register(registry.prometheus())) {}

void ArrivalMetrics::arrived(const std::string& gateway, std::string_view door, std::string_view outcome,
                             std::uint64_t bytes) {
  if (outcome == "duplicate") {
    duplicates_.Add({{"gateway", gateway}, {"door", std::string(door)}}).Increment();
  } else {
    arrivals_.Add({{"gateway", gateway}, {"door", std::string(door)}, {"outcome", std::string(outcome)}}).Increment();
  }
  if (door == "scp") scp_bytes_.Add({{"gateway", gateway}}).Increment(static_cast<double>(bytes));
}

}  // namespace creni::metrics
