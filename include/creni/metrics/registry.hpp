#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace prometheus {
class Registry;
}

namespace creni::metrics {

/// Label names and values of one sample, e.g. {{"gateway", "1"}, {"state", "written"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

/// One value of a family read at scrape time.
struct Sample {
  Labels labels;
  double value = 0.0;
};

/// Whether a family read at scrape time only grows (counter) or goes up and down (gauge).
enum class Kind { counter, gauge };

/// A metric family whose values are read when /metrics is scraped (from the journal, the file system, a
/// component's own counters) instead of being incremented as events happen.
struct Family {
  std::string name;  ///< Prometheus conventions: creni_ prefix, _total for counters, base units in the name
  std::string help;
  Kind kind = Kind::gauge;
  std::vector<Sample> samples;
};

/// Reads families at scrape time. Called on the scraping thread; must be thread-safe and should be quick.
using Collector = std::function<std::vector<Family>()>;

/// The node's metrics: a prometheus-cpp registry that the typed handles (ArrivalMetrics, ScpMetrics,
/// PipelineMetrics, ForwardMetrics) register their families in, plus collectors read at scrape time, serialised
/// together in the Prometheus text format by prometheus-cpp's TextSerializer.
/// Thread-safe. Handles keep references into the registry: it must outlive them.
class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  /// Adds a collector, read at every later exposition().
  void add_collector(Collector collector);

  /// Every family (registered, collected and `extra`), sorted by name, in the Prometheus text exposition format
  /// 0.0.4.
  /// A collector that throws is left out of this exposition (and counted in the gauge creni_metrics_collector_errors).
  [[nodiscard]] std::string exposition(const std::vector<Family>& extra = {}) const;

  /// The underlying registry, for the handles.
  [[nodiscard]] prometheus::Registry& prometheus() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  mutable std::mutex mutex_;  // guards collectors_
  std::vector<Collector> collectors_;
};

/// Histogram bucket bounds in seconds shared by every latency and duration histogram: 5 ms to 10 minutes.
[[nodiscard]] const std::vector<double>& seconds_buckets();

}  // namespace creni::metrics
