#pragma once

#include <cstdint>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/journal/journal.hpp"
#include "creni/journal/journal_reader.hpp"
#include "creni/metrics/registry.hpp"

namespace creni::http {

/// The metric families read from the journal at scrape time: creni_jobs{gateway,state},
/// creni_jobs_rejected{gateway,reason}, creni_oldest_waiting_job_age_seconds{gateway} and
/// creni_forwards{destination,state} (forwards now in each state). Errors: the journal's.
[[nodiscard]] Result<std::vector<metrics::Family>> journal_families(journal::Journal& journal,
                                                                     journal::JournalReader& reader, std::int64_t now_ms);

}  // namespace creni::http
