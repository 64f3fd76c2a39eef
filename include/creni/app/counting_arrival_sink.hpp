#pragma once

#include "creni/ingest/arrival_sink.hpp"
#include "creni/metrics/arrival_metrics.hpp"

namespace creni::app {

/// Counts every arrival of both doors (creni_arrivals_total, creni_scp_received_bytes_total) on its way to the
/// sink that decides about it, so that the doors and the journal sink need no metrics code of their own.
/// Thread-safe when `inner` is.
class CountingArrivalSink final : public ingest::ArrivalSink {
 public:
  CountingArrivalSink(ingest::ArrivalSink& inner, metrics::ArrivalMetrics& metrics) : inner_(inner), metrics_(metrics) {}

  [[nodiscard]] ingest::AcceptResult accept(const ingest::Arrival& arrival) override;
  [[nodiscard]] std::vector<ingest::AcceptResult> accept_all(const std::vector<ingest::Arrival>& arrivals) override;
  /// Passed on as it is: a series may complete when its association ends.
  void association_ended(const std::string& association) override { inner_.association_ended(association); }

 private:
  void count(const ingest::Arrival& arrival, std::uint64_t bytes, const ingest::AcceptResult& result);

  ingest::ArrivalSink& inner_;
  metrics::ArrivalMetrics& metrics_;
};

}  // namespace creni::app
