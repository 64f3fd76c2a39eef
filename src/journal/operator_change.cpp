#include "creni/journal/operator_change.hpp"

#include "creni/journal/journal.hpp"

namespace creni::journal {

std::string_view to_string(JobChange change) {
  switch (change) {
    case JobChange::reprocess: return "reprocess";
    case JobChange::discard: return "discard";
    case JobChange::resend: return "resend";
  }
  return "reprocess";
}

std::optional<JobChange> parse_job_change(std::string_view text) {
  for (const JobChange change : {JobChange::reprocess, JobChange::discard, JobChange::resend}) {
    if (to_string(change) == text) return change;
  }
  return std::nullopt;
}

Result<int> apply_operator_change(Journal& journal, JobChange change, const std::vector<std::int64_t>& job_ids) {
  switch (change) {
    case JobChange::reprocess: return journal.reprocess(job_ids);
    case JobChange::discard: return journal.discard(job_ids);
    case JobChange::resend: return journal.resend(job_ids);
  }
  return make_error("invalid_argument", "unknown change");
}

}  // namespace creni::journal
