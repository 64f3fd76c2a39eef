#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "creni/metrics/prometheus_types.hpp"

namespace creni::metrics {

class Registry;

/// Processing: creni_processing_seconds{step} (histogram), creni_arrival_to_written_seconds{gateway} (histogram),
/// creni_workers_running (gauge) and creni_worker_restarts_total (counter). Thread-safe; the registry must
/// outlive it.
class PipelineMetrics {
 public:
  explicit PipelineMetrics(Registry& registry);

  /// Time one processing step took for one image ("worker": the worker's whole round trip; "infer": the model).
  void step_took(std::string_view step, double seconds);
  /// A result was recorded `written`, `seconds` after its arrival was recorded.
  void written(const std::string& gateway, double seconds_since_arrival);
  /// A worker process started (and said READY).
  void worker_started();
  /// A worker process was replaced after it crashed or hung.
  void worker_replaced();
  /// Worker processes running right now.
  [[nodiscard]] int workers_running() const { return running_.load(); }

 private:
  prometheus::Family<prometheus::Histogram>& steps_;
  prometheus::Family<prometheus::Histogram>& to_written_;
  prometheus::Gauge& running_gauge_;
  prometheus::Counter& restarts_;
  std::atomic<int> running_{0};
};

}  // namespace creni::metrics
