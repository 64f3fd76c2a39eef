#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "creni/metrics/prometheus_types.hpp"

namespace creni::metrics {

class Registry;

/// Arrivals at both front doors, counted where they meet (the arrival sink), so both doors count the same way:
/// creni_arrivals_total{gateway, door, outcome} (outcome accepted, conflict, rejected or out_of_resources),
/// creni_duplicate_arrivals_total{gateway, door} (an instance the journal already has with the same bytes: a
/// sender's repeat, or the node's own mirror of an SCP arrival in INPUT seen by the folder door) and
/// creni_scp_received_bytes_total{gateway}.
/// Thread-safe; the registry must outlive it.
class ArrivalMetrics {
 public:
  explicit ArrivalMetrics(Registry& registry);

  /// One arrival handed to the node. `door` "folder" or "scp"; `outcome` what the node did with it ("accepted",
  /// "duplicate", "conflict", "rejected", "out_of_resources"); `bytes` its size (counted for the SCP door only).
  void arrived(const std::string& gateway, std::string_view door, std::string_view outcome, std::uint64_t bytes);

 private:
  prometheus::Family<prometheus::Counter>& arrivals_;
  prometheus::Family<prometheus::Counter>& duplicates_;
  prometheus::Family<prometheus::Counter>& scp_bytes_;
};

}  // namespace creni::metrics
