#include "creni/metrics/pipeline_metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "creni/metrics/registry.hpp"
#include "shared_families.hpp"

namespace creni::metrics {

PipelineMetrics::PipelineMetrics(Registry& registry)
    : steps_(processing_seconds_family(registry)),
      to_written_(prometheus::BuildHistogram()
                      .Name("creni_arrival_to_written_seconds")
                      .Help("From an arrival being recorded to its result being recorded written, by gateway")
                      .Register(registry.prometheus())),
      running_gauge_(prometheus::BuildGauge()
                         .Name("creni_workers_running")
                         .Help("Worker processes running")
                         .Register(registry.prometheus())
                         .Add({})),
      restarts_(prometheus::BuildCounter()
                    .Name("creni_worker_restarts_total")
                    .Help("Worker processes replaced after a crash or a hang")
                    .Register(registry.prometheus())
                    .Add({})) {}

void PipelineMetrics::step_took(std::string_view step, double seconds) {
  steps_.Add({{"step", std::string(step)}}, seconds_buckets()).Observe(seconds);
}

void PipelineMetrics::written(const std::string& gateway, double seconds_since_arrival) {
  to_written_.Add({{"gateway", gateway}}, seconds_buckets()).Observe(seconds_since_arrival);
}

void PipelineMetrics::worker_started() {
  running_gauge_.Set(static_cast<double>(++running_));
}

void PipelineMetrics::worker_replaced() {
  running_gauge_.Set(static_cast<double>(--running_));
  restarts_.Increment();
}

}  // namespace creni::metrics
