#pragma once

#include <memory>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/http/readiness.hpp"
#include "creni/metrics/arrival_metrics.hpp"
#include "creni/metrics/forward_metrics.hpp"
#include "creni/metrics/pipeline_metrics.hpp"
#include "creni/metrics/registry.hpp"
#include "creni/metrics/scp_metrics.hpp"

namespace creni::ingest {
class StorageScp;
}

namespace creni::app {

/// The handles the node gives its components, all registered in one registry (which must outlive them).
struct NodeMetrics {
  explicit NodeMetrics(metrics::Registry& registry)
      : arrivals(std::make_shared<metrics::ArrivalMetrics>(registry)),
        scp(std::make_shared<metrics::ScpMetrics>(registry)),
        pipeline(std::make_shared<metrics::PipelineMetrics>(registry)),
        forward(std::make_shared<metrics::ForwardMetrics>(registry)) {}

  std::shared_ptr<metrics::ArrivalMetrics> arrivals;
  std::shared_ptr<metrics::ScpMetrics> scp;
  std::shared_ptr<metrics::PipelineMetrics> pipeline;
  std::shared_ptr<metrics::ForwardMetrics> forward;
};

/// The node's own families, read at scrape time: creni_scp_open_associations, creni_volume_free_bytes{volume}
/// (input, output, state) and creni_build_info{version}. `scp` may be null (SCP off).
[[nodiscard]] std::vector<metrics::Family> node_families(const config::NodeConfig& config, const ingest::StorageScp* scp);

/// /readyz: ready when the journal is open, the SCP listens (when enabled), at least one worker runs and free
/// space is above [node] min_free_mb on OUTPUT and the state folder; otherwise one reason per failed condition.
[[nodiscard]] http::Readiness readiness(const config::NodeConfig& config, bool journal_open, const ingest::StorageScp* scp,
                                        const metrics::PipelineMetrics& pipeline, bool disk_low);

}  // namespace creni::app
