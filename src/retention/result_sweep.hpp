#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "creni/config/retention_config.hpp"
#include "creni/journal/retention_queries.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::retention {

/// Where a gateway's results and their traces live, and how the sweep paces itself.
struct ResultSweepContext {
  journal::RetentionQueries& queries;
  std::filesystem::path output_dir;  ///< OUTPUT: results in gateway_<id>/, with gateway_<id>/image.db
  std::filesystem::path input_dir;   ///< INPUT: SCP arrivals' copies in gateway_<id>/, with gateway_<id>/image.db
  std::function<bool()> pace;        ///< between batches; false stops the sweep
};

/// Finishes results left `sweeping` by an interrupted sweep: their image.db rows and files are removed (again:
/// every step converges when repeated) and they become `swept`.
void resume_interrupted(const ResultSweepContext& context, SweepReport& report);

/// Removes, oldest first, the results of one gateway that are older than `limits.output_max_age` or, while
/// OUTPUT/gateway_<id>/ holds more than `limits.output_max_bytes`, the oldest; only results that the journal's
/// rule allows (delivered everywhere, unless delete_unforwarded). For each batch: mark `sweeping`, remove the
/// image.db rows (OUTPUT, and INPUT for the node's own copies of SCP arrivals), remove the files, mark `swept`.
void sweep_results(const ResultSweepContext& context, const std::string& gateway_id,
                   const config::RetentionLimits& limits, std::int64_t now_ms, SweepReport& report);

}  // namespace creni::retention
