// Operator commands that read or change the journal: status, reprocess, discard. They open the journal file of
// the configured state folder directly; a running node picks the changes up on its next poll.
#include <chrono>
#include <ctime>
#include <optional>
#include <iostream>
#include <sstream>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"
#include "creni/app/node_status.hpp"
#include "retention_status.hpp"
#include "creni/common/clock.hpp"
#include "creni/http/api_documents.hpp"
#include "creni/journal/journal.hpp"
#include "creni/journal/operator_change.hpp"

namespace creni::app {

namespace {

void print_series_text(const std::vector<journal::SeriesRecord>& series, std::int64_t now_ms) {
  if (series.empty()) return;
  std::cout << "series:\n";
  for (const auto& s : series) {
    std::cout << "  gateway " << s.gateway_id << "  " << s.series_instance_uid << " run " << s.run << "  "
              << journal::to_string(s.state) << "  " << s.received << "/"
              << (s.expected > 0 ? std::to_string(s.expected) : "?") << "  age "
              << std::max<std::int64_t>(0, now_ms - s.first_arrival_ms) / 1000 << " s";
    if (!s.completed_by.empty()) std::cout << "  by " << s.completed_by;
    if (!s.summary.empty()) std::cout << "  " << (s.reason.empty() ? "" : s.reason + ": ") << s.summary;
    if (!s.result_path.empty()) std::cout << "  -> " << s.result_path;
    std::cout << "\n";
  }
}

// The running node's own counters, when a node is running on this state folder.
std::optional<NodeStatus> live_node(const std::filesystem::path& state_dir) {
  auto published = read_node_status(state_dir / "node-status.json");
  if (published && is_live(*published, unix_time_ms())) return published;
  return std::nullopt;
}

void print_node_text(const std::optional<NodeStatus>& node) {
  if (!node) {
    std::cout << "node: not running\n";
    return;
  }
  std::cout << "node: running, pid " << node->pid << ", up " << (node->updated_ms - node->started_ms) / 1000 << " s, "
            << node->workers << " worker(s)\n";
  if (node->scp_port > 0) {
    std::cout << "  SCP port " << node->scp_port << ": " << node->active_associations << " active association(s), "
              << node->images_received << " image(s) received\n";
  }
  std::cout << "  folder door: " << node->files_taken << " file(s) taken, " << node->files_not_taken
            << " not taken (see the log); " << node->images_written << " image(s) written since start\n";
  if (node->images_inferred > 0) {
    std::cout << "  inference: " << node->images_inferred << " image(s), mean "
              << static_cast<double>(node->inference_us) / static_cast<double>(node->images_inferred) / 1000.0
              << " ms per image\n";
  }
}

void print_json(const journal::StatusReport& report, const std::optional<NodeStatus>& node,
                const std::vector<journal::SeriesRecord>& series, const http::Json& retention) {
  http::Json document = http::status_document(report, node ? to_document(*node) : http::Json(nullptr),
                                              http::series_document(series, unix_time_ms()));
  document["retention"] = retention;
  std::cout << http::to_text(document) << "\n";
}

void print_text(const journal::StatusReport& report, const std::optional<NodeStatus>& node,
                const std::vector<journal::SeriesRecord>& series) {
  print_node_text(node);
  std::cout << "jobs by gateway and state:\n";
  if (report.counts.empty()) std::cout << "  (none)\n";
  for (const auto& c : report.counts) std::cout << "  gateway " << c.gateway_id << "  " << c.state << "  " << c.count << "\n";
  if (report.oldest_waiting) {
    std::cout << "oldest waiting: job " << report.oldest_waiting->id << " since "
              << http::utc_time(report.oldest_waiting->created_at_ms) << " (" << report.oldest_waiting->input_path.string() << ")\n";
  }
  if (!report.destinations.empty()) std::cout << "destinations:\n";
  for (const auto& d : report.destinations) {
    std::cout << "  " << d.destination << "  sent " << d.sent << "  failed " << d.failed << "  unknown " << d.unknown
              << "  waiting " << d.waiting << (d.last_error.empty() ? "" : "  last error: " + d.last_error) << "\n";
  }
  print_series_text(series, unix_time_ms());
  if (!report.last_errors.empty()) std::cout << "last errors:\n";
  for (const auto& job : report.last_errors) {
    std::cout << "  job " << job.id << "  gateway " << job.gateway_id << "  " << http::utc_time(job.updated_at_ms) << "  "
              << job.reason << (job.detail.empty() ? "" : ": " + job.detail) << "  " << job.input_path.string() << "\n";
  }
}

Result<std::unique_ptr<journal::Journal>> open_journal(const std::filesystem::path& state_dir) {
  const auto file = state_dir / "journal.db";
  if (!std::filesystem::exists(file)) return make_error("not_found", "no journal at " + file.string());
  return journal::Journal::open(file);
}

// The job ids named on the command line plus those in the named state.
Result<std::vector<std::int64_t>> select_jobs(journal::Journal& journal, const JobSelection& selection) {
  std::vector<std::int64_t> ids = selection.job_ids;
  if (!selection.state.empty()) {
    const auto state = journal::parse_job_state(selection.state);
    if (!state) return make_error("invalid_argument", "unknown state '" + selection.state + "'");
    auto jobs = journal.jobs_in_state(*state, -1);
    if (!jobs) return jobs.error();
    for (const auto& job : jobs.value()) ids.push_back(job.id);
  }
  return ids;
}

int fail(const std::string& command, const Error& error) {
  std::cerr << "creni-node " << command << ": " << error.describe() << "\n";
  return error.code == "invalid_config" || error.code == "invalid_argument" ? kExitUsage : kExitFailure;
}

}  // namespace

int command_status(const CommonOptions& common, const StatusOptions& options) {
  auto config = common.load();
  if (!config) return fail("status", config.error());
  auto journal = open_journal(config->state_dir);
  if (!journal) return fail("status", journal.error());
  auto report = journal.value()->report();
  if (!report) return fail("status", report.error());
  // Open runs and the most recent finished ones.
  auto series = journal.value()->series_overview(http::kFinishedSeriesShown);
  if (!series) return fail("status", series.error());
  const auto node = live_node(config->state_dir);
  if (options.json) {
    print_json(report.value(), node, series.value(), retention_document(config.value()));
  } else {
    print_text(report.value(), node, series.value());
    print_retention_text(std::cout, config.value());
  }
  return kExitOk;
}

int command_change_jobs(const CommonOptions& common, const JobSelection& selection, JobChange change) {
  const std::string name(journal::to_string(change));
  auto config = common.load();
  if (!config) return fail(name, config.error());
  auto journal = open_journal(config->state_dir);
  if (!journal) return fail(name, journal.error());
  auto ids = select_jobs(*journal.value(), selection);
  if (!ids) return fail(name, ids.error());
  if (ids->empty()) {
    std::cout << "no jobs selected\n";
    return kExitOk;
  }
  Result<int> changed = journal::apply_operator_change(*journal.value(), change, ids.value());
  if (!changed) return fail(name, changed.error());
  std::cout << name << ": " << changed.value() << " of " << ids->size() << " job(s) changed\n";
  return kExitOk;
}

}  // namespace creni::app
