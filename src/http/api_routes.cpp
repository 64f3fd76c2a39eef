#include "api_routes.hpp"

#include <openssl/crypto.h>

#include <charconv>
#include <optional>
#include <variant>

#include "creni/common/clock.hpp"
#include "creni/config/node_config.hpp"
#include "creni/http/api_documents.hpp"
#include "creni/journal/operator_change.hpp"

namespace creni::http {

namespace {

constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
constexpr std::int64_t kActivityWindowMs = 60LL * 60 * 1000;

std::optional<std::int64_t> parse_number(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

void reply_error(httplib::Response& response, int status, const std::string& message) {
  reply_json(response, status, {{"error", message}});
}

// The status code for a journal error: an unknown job is the client's 404, a busy journal a 503, others a 500.
int status_for(const Error& error) {
  if (error.code == "not_found") return 404;
  if (error.code == "busy") return 503;
  return 500;
}

// Write endpoints: only with a configured token, and only for a request that carries it. The comparison takes
// the same time wherever the first difference is.
bool authorised(const ApiContext& context, const httplib::Request& request, httplib::Response& response) {
  const std::string& token = context.options.token;
  if (token.empty()) {
    reply_error(response, 403, "write endpoints are disabled: [http] token_file is not set");
    return false;
  }
  const std::string header = request.get_header_value("Authorization");
  const std::string expected = "Bearer " + token;
  if (header.size() != expected.size() || CRYPTO_memcmp(header.data(), expected.data(), expected.size()) != 0) {
    response.set_header("WWW-Authenticate", "Bearer");
    reply_error(response, 401, "missing or wrong bearer token");
    return false;
  }
  return true;
}

// GET /api/jobs: the filter from the query, or an error message.
std::variant<journal::JobFilter, std::string> job_filter(const httplib::Request& request) {
  journal::JobFilter filter;
  filter.limit = kDefaultPageSize;
  if (request.has_param("gateway")) {
    filter.gateway_id = request.get_param_value("gateway");
    if (!filter.gateway_id.empty() && !config::is_valid_gateway_id(filter.gateway_id)) return "gateway: not a valid gateway id";
  }
  if (request.has_param("state") && !request.get_param_value("state").empty()) {
    filter.state = journal::parse_job_state(request.get_param_value("state"));
    if (!filter.state) return "state: unknown state '" + request.get_param_value("state") + "'";
  }
  if (request.has_param("limit")) {
    const auto limit = parse_number(request.get_param_value("limit"));
    if (!limit || *limit < 1 || *limit > kMaxPageSize) return "limit: must be between 1 and " + std::to_string(kMaxPageSize);
    filter.limit = static_cast<int>(*limit);
  }
  if (request.has_param("after")) {
    const auto after = parse_number(request.get_param_value("after"));
    if (!after) return "after: must be a job id (0 or more)";
    filter.after_id = *after;
  }
  return filter;
}

void list_jobs(ApiContext& context, const httplib::Request& request, httplib::Response& response) {
  auto filter = job_filter(request);
  if (const auto* message = std::get_if<std::string>(&filter)) return reply_error(response, 400, *message);
  const auto& chosen = std::get<journal::JobFilter>(filter);
  auto ids = context.reader.job_ids(chosen);
  if (!ids) return reply_error(response, status_for(ids.error()), ids.error().describe());
  Json jobs = Json::array();
  for (const std::int64_t id : ids.value()) {
    auto job = context.journal.find_job(id);
    if (!job) return reply_error(response, status_for(job.error()), job.error().describe());
    if (job.value()) jobs.push_back(job_document(*job.value()));
  }
  const bool full = static_cast<int>(ids->size()) == chosen.limit;
  reply_json(response, 200, {{"jobs", jobs}, {"next_after", full ? Json(ids->back()) : Json(nullptr)}});
}

void show_job(ApiContext& context, const httplib::Request& request, httplib::Response& response) {
  const auto id = parse_number(request.matches[1]);
  if (!id) return reply_error(response, 400, "not a job id");
  auto job = context.journal.find_job(*id);
  if (!job) return reply_error(response, status_for(job.error()), job.error().describe());
  if (!job.value()) return reply_error(response, 404, "no job " + std::to_string(*id));
  auto forwards = context.journal.forwards_of(*id);
  if (!forwards) return reply_error(response, status_for(forwards.error()), forwards.error().describe());
  Json attempts = Json::array();
  for (const auto& forward : forwards.value()) attempts.push_back(forward_document(forward));
  reply_json(response, 200, {{"job", job_document(*job.value())}, {"forwards", attempts}});
}

void change_job(ApiContext& context, const httplib::Request& request, httplib::Response& response) {
  if (!authorised(context, request, response)) return;
  const auto id = parse_number(request.matches[1]);
  const auto change = journal::parse_job_change(request.matches[2].str());
  if (!id || !change) return reply_error(response, 400, "not a job id or change");
  auto changed = journal::apply_operator_change(context.journal, *change, {*id});
  if (!changed) return reply_error(response, status_for(changed.error()), changed.error().describe());
  if (changed.value() > 0 && context.options.jobs_changed) context.options.jobs_changed();
  reply_json(response, 200, {{"job", *id}, {"action", std::string(journal::to_string(*change))}, {"changed", changed.value()}});
}

void show_status(ApiContext& context, httplib::Response& response) {
  auto report = context.journal.report();
  if (!report) return reply_error(response, status_for(report.error()), report.error().describe());
  const Json node = context.options.node_status ? context.options.node_status() : Json(nullptr);
  auto series = context.journal.series_overview(kFinishedSeriesShown);
  if (!series) return reply_error(response, status_for(series.error()), series.error().describe());
  reply_json(response, 200, status_document(report.value(), node, series_document(series.value(), unix_time_ms())));
}

// What the dashboard draws beside the status: arrivals per minute and latency over the last hour, and each
// destination's last outcome.
void show_activity(ApiContext& context, httplib::Response& response) {
  const std::int64_t now = unix_time_ms();
  const std::int64_t since = now - kActivityWindowMs;
  auto minutes = context.reader.arrivals_per_minute(since);
  if (!minutes) return reply_error(response, status_for(minutes.error()), minutes.error().describe());
  auto latency = context.reader.latency(since);
  if (!latency) return reply_error(response, status_for(latency.error()), latency.error().describe());
  auto forwards = context.reader.last_forwards();
  if (!forwards) return reply_error(response, status_for(forwards.error()), forwards.error().describe());
  Json per_minute = Json::array();
  for (const auto& m : minutes.value()) per_minute.push_back({{"gateway", m.gateway_id}, {"minute_ms", m.minute_ms}, {"count", m.count}});
  Json latencies = Json::array();
  for (const auto& l : latency.value()) {
    latencies.push_back({{"gateway", l.gateway_id}, {"jobs", l.jobs}, {"p50_ms", l.p50_ms}, {"p95_ms", l.p95_ms}});
  }
  Json last = Json::array();
  for (const auto& f : forwards.value()) {
    last.push_back({{"destination", f.destination},
                    {"state", std::string(journal::to_string(f.state))},
                    {"phase", f.phase},
                    {"detail", f.detail},
                    {"updated", utc_time(f.updated_at_ms)}});
  }
  reply_json(response, 200,
             {{"now_ms", now}, {"since_ms", since}, {"per_minute", per_minute}, {"latency", latencies}, {"last_forwards", last}});
}

}  // namespace

void reply_json(httplib::Response& response, int status, const Json& document) {
  response.status = status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(to_text(document), "application/json");
}

void add_api_routes(httplib::Server& server, ApiContext& context) {
  server.Get("/api/status", [&context](const httplib::Request&, httplib::Response& response) { show_status(context, response); });
  server.Get("/api/activity", [&context](const httplib::Request&, httplib::Response& response) { show_activity(context, response); });
  server.Get("/api/jobs", [&context](const httplib::Request& request, httplib::Response& response) {
    list_jobs(context, request, response);
  });
  server.Get(R"(/api/jobs/(\d{1,18}))", [&context](const httplib::Request& request, httplib::Response& response) {
    show_job(context, request, response);
  });
  server.Post(R"(/api/jobs/(\d{1,18})/(reprocess|resend|discard))",
              [&context](const httplib::Request& request, httplib::Response& response) {
                change_job(context, request, response);
              });
}

}  // namespace creni::http
