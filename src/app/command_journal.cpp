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
#include "creni/journal/journal.hpp"

namespace creni::app {

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string utc_time(std::int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string job_json(const journal::Job& job) {
  std::ostringstream out;
  out << "{\"id\":" << job.id << ",\"gateway\":" << json_string(job.gateway_id)
      << ",\"source\":" << json_string(std::string(journal::to_string(job.source)))
      << ",\"state\":" << json_string(std::string(journal::to_string(job.state))) << ",\"attempts\":" << job.attempts
      << ",\"reason\":" << json_string(job.reason) << ",\"detail\":" << json_string(job.detail)
      << ",\"input\":" << json_string(job.input_path.string()) << ",\"output\":" << json_string(job.output_path.string())
      << ",\"sop_instance_uid\":" << json_string(job.sop_instance_uid)
      << ",\"updated\":" << json_string(utc_time(job.updated_at_ms)) << "}";
  return out.str();
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
  std::cout << "  folder door: " << node->files_taken << " file(s) taken; " << node->images_written
            << " image(s) written since start\n";
  if (node->images_inferred > 0) {
    std::cout << "  inference: " << node->images_inferred << " image(s), mean "
              << static_cast<double>(node->inference_us) / static_cast<double>(node->images_inferred) / 1000.0
              << " ms per image\n";
  }
}

void print_json(const journal::StatusReport& report, const std::optional<NodeStatus>& node,
                const std::string& retention) {
  std::cout << "{\"node\":" << (node ? to_json(*node) : "null") << ",\"counts\":[";
  for (std::size_t i = 0; i < report.counts.size(); ++i) {
    const auto& c = report.counts[i];
    std::cout << (i ? "," : "") << "{\"gateway\":" << json_string(c.gateway_id) << ",\"state\":" << json_string(c.state)
              << ",\"count\":" << c.count << "}";
  }
  std::cout << "],\"oldest_waiting\":" << (report.oldest_waiting ? job_json(*report.oldest_waiting) : "null")
            << ",\"last_errors\":[";
  for (std::size_t i = 0; i < report.last_errors.size(); ++i) std::cout << (i ? "," : "") << job_json(report.last_errors[i]);
  std::cout << "],\"destinations\":[";
  for (std::size_t i = 0; i < report.destinations.size(); ++i) {
    const auto& d = report.destinations[i];
    std::cout << (i ? "," : "") << "{\"name\":" << json_string(d.destination) << ",\"sent\":" << d.sent
              << ",\"failed\":" << d.failed << ",\"unknown\":" << d.unknown << ",\"waiting\":" << d.waiting
              << ",\"last_error\":" << json_string(d.last_error) << "}";
  }
  std::cout << "],\"retention\":" << retention << "}\n";
}

void print_text(const journal::StatusReport& report, const std::optional<NodeStatus>& node) {
  print_node_text(node);
  std::cout << "jobs by gateway and state:\n";
  if (report.counts.empty()) std::cout << "  (none)\n";
  for (const auto& c : report.counts) std::cout << "  gateway " << c.gateway_id << "  " << c.state << "  " << c.count << "\n";
  if (report.oldest_waiting) {
    std::cout << "oldest waiting: job " << report.oldest_waiting->id << " since "
              << utc_time(report.oldest_waiting->created_at_ms) << " (" << report.oldest_waiting->input_path.string() << ")\n";
  }
  if (!report.destinations.empty()) std::cout << "destinations:\n";
  for (const auto& d : report.destinations) {
    std::cout << "  " << d.destination << "  sent " << d.sent << "  failed " << d.failed << "  unknown " << d.unknown
              << "  waiting " << d.waiting << (d.last_error.empty() ? "" : "  last error: " + d.last_error) << "\n";
  }
  if (!report.last_errors.empty()) std::cout << "last errors:\n";
  for (const auto& job : report.last_errors) {
    std::cout << "  job " << job.id << "  gateway " << job.gateway_id << "  " << utc_time(job.updated_at_ms) << "  "
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
  const auto node = live_node(config->state_dir);
  if (options.json) {
    std::ostringstream retention;
    print_retention_json(retention, config.value());
    print_json(report.value(), node, retention.str());
  } else {
    print_text(report.value(), node);
    print_retention_text(std::cout, config.value());
  }
  return kExitOk;
}

int command_change_jobs(const CommonOptions& common, const JobSelection& selection, JobChange change) {
  const std::string name = change == JobChange::reprocess ? "reprocess" : change == JobChange::discard ? "discard" : "resend";
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
  Result<int> changed = change == JobChange::reprocess ? journal.value()->reprocess(ids.value())
                        : change == JobChange::discard ? journal.value()->discard(ids.value())
                                                       : journal.value()->resend(ids.value());
  if (!changed) return fail(name, changed.error());
  std::cout << name << ": " << changed.value() << " of " << ids->size() << " job(s) changed\n";
  return kExitOk;
}

}  // namespace creni::app
