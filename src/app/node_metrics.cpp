#include "creni/app/node_metrics.hpp"


#include <optional>

#include "creni/common/free_space.hpp"
#include "creni/ingest/storage_scp.hpp"

namespace creni::app {

std::vector<metrics::Family> node_families(const config::NodeConfig& config, const ingest::StorageScp* scp) {
  metrics::Family volumes{"creni_volume_free_bytes", "Free bytes for the node on the volume of each of its folders",
                          metrics::Kind::gauge, {}};
  const std::pair<const char*, const std::filesystem::path*> folders[] = {
      {"input", &config.input_dir}, {"output", &config.output_dir}, {"state", &config.state_dir}};
  for (const auto& [name, folder] : folders) {
    if (const auto bytes = fs::free_bytes(*folder)) {
      volumes.samples.push_back({{{"volume", name}, {"path", folder->string()}}, static_cast<double>(*bytes)});
    }
  }
  metrics::Family open{"creni_scp_open_associations", "SCP associations being served or waiting for a worker now",
                       metrics::Kind::gauge, {{{}, scp ? static_cast<double>(scp->active_associations()) : 0.0}}};
  metrics::Family build{"creni_build_info", "The running build (value 1)", metrics::Kind::gauge,
                        {{{{"version", CRENI_VERSION}}, 1.0}}};
  return {volumes, open, build};
}

http::Readiness readiness(const config::NodeConfig& config, bool journal_open, const ingest::StorageScp* scp,
                          const metrics::PipelineMetrics& pipeline, bool disk_low) {
  http::Readiness ready;
  if (!journal_open) ready.reasons.emplace_back("journal: not open");
  if (config.scp.enabled && (scp == nullptr || scp->port() == 0)) ready.reasons.emplace_back("scp: not listening");
  if (pipeline.workers_running() < 1) ready.reasons.emplace_back("workers: none running");
  if (disk_low) {
    ready.reasons.push_back("disk: free space below node.min_free_mb (" + std::to_string(config.min_free_mb) +
                            " MB) on OUTPUT or the state folder");
  }
  return ready;
}

}  // namespace creni::app
