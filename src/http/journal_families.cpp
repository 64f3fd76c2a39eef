#include "journal_families.hpp"

namespace creni::http {

Result<std::vector<metrics::Family>> journal_families(journal::Journal& journal, journal::JournalReader& reader,
                                                      std::int64_t now_ms) {
  auto report = journal.report();
  if (!report) return report.error();
  auto rejections = reader.rejections();
  if (!rejections) return rejections.error();
  auto oldest = reader.oldest_waiting();
  if (!oldest) return oldest.error();

  metrics::Family jobs{"creni_jobs", "Jobs in the journal by gateway and state", metrics::Kind::gauge, {}};
  for (const auto& c : report->counts) {
    jobs.samples.push_back({{{"gateway", c.gateway_id}, {"state", c.state}}, static_cast<double>(c.count)});
  }
  metrics::Family rejected{"creni_jobs_rejected", "Rejected jobs in the journal by gateway and reason",
                           metrics::Kind::gauge, {}};
  for (const auto& r : rejections.value()) {
    rejected.samples.push_back({{{"gateway", r.gateway_id}, {"reason", r.reason}}, static_cast<double>(r.count)});
  }
  metrics::Family waiting{"creni_oldest_waiting_job_age_seconds",
                          "Age of the oldest job waiting to be processed (received), by gateway", metrics::Kind::gauge, {}};
  for (const auto& o : oldest.value()) {
    waiting.samples.push_back({{{"gateway", o.gateway_id}}, static_cast<double>(now_ms - o.created_at_ms) / 1000.0});
  }
  metrics::Family forwards{"creni_forwards", "Forwards in the journal by destination and state", metrics::Kind::gauge, {}};
  for (const auto& d : report->destinations) {
    const std::pair<const char*, std::int64_t> states[] = {
        {"done", d.sent}, {"forward_failed", d.failed}, {"forward_unknown", d.unknown}, {"waiting", d.waiting}};
    for (const auto& [state, count] : states) {
      forwards.samples.push_back({{{"destination", d.destination}, {"state", state}}, static_cast<double>(count)});
    }
  }
  return std::vector<metrics::Family>{jobs, rejected, waiting, forwards};
}

}  // namespace creni::http
