#include "creni/http/api_documents.hpp"

#include <algorithm>

#include <ctime>

namespace creni::http {

std::string utc_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

Json job_document(const journal::Job& job) {
  return {{"id", job.id},
          {"gateway", job.gateway_id},
          {"source", std::string(journal::to_string(job.source))},
          {"state", std::string(journal::to_string(job.state))},
          {"attempts", job.attempts},
          {"reason", job.reason},
          {"detail", job.detail},
          {"input", job.input_path.string()},
          {"output", job.output_path.string()},
          {"sop_instance_uid", job.sop_instance_uid},
          {"created", utc_time(job.created_at_ms)},
          {"updated", utc_time(job.updated_at_ms)}};
}

Json forward_document(const journal::Forward& forward) {
  return {{"destination", forward.destination},
          {"state", std::string(journal::to_string(forward.state))},
          {"attempts", forward.attempts},
          {"phase", forward.phase},
          {"detail", forward.detail},
          {"dimse_status", forward.dimse_status},
          {"next_attempt", forward.next_attempt_at_ms ? Json(utc_time(*forward.next_attempt_at_ms)) : nullptr},
          {"updated", utc_time(forward.updated_at_ms)}};
}

Json series_document(const std::vector<journal::SeriesRecord>& series, std::int64_t now_ms) {
  Json runs = Json::array();
  for (const auto& s : series) {
    runs.push_back({{"id", s.id},
                    {"gateway", s.gateway_id},
                    {"series_instance_uid", s.series_instance_uid},
                    {"run", s.run},
                    {"state", std::string(journal::to_string(s.state))},
                    {"received", s.received},
                    {"expected", s.expected},
                    {"age_s", std::max<std::int64_t>(0, now_ms - s.first_arrival_ms) / 1000},
                    {"idle_s", std::max<std::int64_t>(0, now_ms - s.last_arrival_ms) / 1000},
                    {"completed_by", s.completed_by},
                    {"attempts", s.attempts},
                    {"result_job", s.result_job_id},
                    {"result", s.result_path},
                    {"summary", s.summary},
                    {"reason", s.reason}});
  }
  return runs;
}

Json status_document(const journal::StatusReport& report, const Json& node, const Json& series) {
  Json counts = Json::array();
  for (const auto& c : report.counts) counts.push_back({{"gateway", c.gateway_id}, {"state", c.state}, {"count", c.count}});
  Json errors = Json::array();
  for (const auto& job : report.last_errors) errors.push_back(job_document(job));
  Json destinations = Json::array();
  for (const auto& d : report.destinations) {
    destinations.push_back({{"name", d.destination},
                            {"sent", d.sent},
                            {"failed", d.failed},
                            {"unknown", d.unknown},
                            {"waiting", d.waiting},
                            {"last_error", d.last_error}});
  }
  return {{"node", node},
          {"counts", counts},
          {"oldest_waiting", report.oldest_waiting ? job_document(*report.oldest_waiting) : Json(nullptr)},
          {"last_errors", errors},
          {"destinations", destinations},
          {"series", series}};
}

std::string to_text(const Json& document) {
  return document.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace creni::http
