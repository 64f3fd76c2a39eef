#pragma once

#include "creni/config/node_config.hpp"
#include "creni/journal/series_records.hpp"
#include "creni/pipeline/worker_protocol.hpp"

namespace creni::pipeline {

/// The instance as its series records it, from a worker's DONE answer: the original's and the result's UIDs, the
/// geometry and size from the result's image.db entry (processing keeps them), the expected count, and the
/// result's patient, study and series rows as "<table>.<column>=<value>" lines for the series' report.
[[nodiscard]] journal::SeriesMember series_member_of(const JobReply& reply, config::LatePolicy late);

}  // namespace creni::pipeline
