#pragma once

#include <cstdint>
#include <functional>

#include "creni/config/node_config.hpp"
#include "creni/journal/retention_queries.hpp"
#include "creni/retention/retention_stats.hpp"

namespace creni::retention {

/// Forgets finished jobs last changed more than `journal_max_age` ago (with their forwards), in batches:
/// only jobs whose result is gone (swept or never made), never a forward_failed or forward_unknown job unless its
/// gateway has delete_unforwarded, and never a job whose input still lies in INPUT (the folder door would take it
/// for a new arrival). A rejected SCP arrival's received file in state/spool goes with its row.
void prune_journal(journal::RetentionQueries& queries, const config::NodeConfig& config, std::int64_t now_ms,
                   const std::function<bool()>& pace, SweepReport& report);

}  // namespace creni::retention
