#include "creni/metrics/registry.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <algorithm>
#include <exception>

namespace creni::metrics {

namespace {

prometheus::MetricFamily to_prometheus(const Family& family) {
  prometheus::MetricFamily out;
  out.name = family.name;
  out.help = family.help;
  out.type = family.kind == Kind::counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
  for (const Sample& sample : family.samples) {
    prometheus::ClientMetric metric;
    for (const auto& [name, value] : sample.labels) metric.label.push_back(prometheus::ClientMetric::Label{name, value});
    if (family.kind == Kind::counter) {
      metric.counter.value = sample.value;
    } else {
      metric.gauge.value = sample.value;
    }
    out.metric.push_back(std::move(metric));
  }
  return out;
}

}  // namespace

Registry::Registry() : registry_(std::make_shared<prometheus::Registry>()) {}

Registry::~Registry() = default;

void Registry::add_collector(Collector collector) {
  const std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::exposition(const std::vector<Family>& extra) const {
  std::vector<Collector> collectors;
  {
    const std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const Family& family : extra) families.push_back(to_prometheus(family));
  int failed = 0;
  for (const Collector& collect : collectors) {
    try {
      for (const Family& family : collect()) families.push_back(to_prometheus(family));
    } catch (const std::exception&) {
      ++failed;  // a broken collector must not take the whole scrape down
    }
  }
  if (failed > 0) {
    families.push_back(to_prometheus(Family{"creni_metrics_collector_errors", "Collectors that failed in this scrape",
                                            Kind::gauge, {Sample{{}, static_cast<double>(failed)}}}));
  }
  std::sort(families.begin(), families.end(),
            [](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) { return a.name < b.name; });
  return prometheus::TextSerializer().Serialize(families);
}

const std::vector<double>& seconds_buckets() {
  static const std::vector<double> buckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,  1,   2.5,
                                              5,     10,   30,    60,   120, 300, 600};
  return buckets;
}

}  // namespace creni::metrics
