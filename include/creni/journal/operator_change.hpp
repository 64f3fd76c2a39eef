#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::journal {

class Journal;

/// What an operator can do to finished jobs: the `reprocess`, `discard` and `resend` commands, and the HTTP API's
/// POST /api/jobs/{id}/<change>, which both go through apply_operator_change.
enum class JobChange { reprocess, discard, resend };

/// "reprocess", "discard" or "resend".
[[nodiscard]] std::string_view to_string(JobChange change);
/// The inverse of to_string(JobChange); nullopt for anything else.
[[nodiscard]] std::optional<JobChange> parse_job_change(std::string_view text);

/// Journal::reprocess, discard or resend of `job_ids` (one transaction). Returns how many jobs (reprocess,
/// discard) or forwards (resend) changed. Errors: those of the Journal method ("not_found" for an unknown id).
[[nodiscard]] Result<int> apply_operator_change(Journal& journal, JobChange change, const std::vector<std::int64_t>& job_ids);

}  // namespace creni::journal
