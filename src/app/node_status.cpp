#include "creni/app/node_status.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>
#include <vector>

namespace creni::app {

namespace {

// Field names and members, in the order they are written.
std::vector<std::pair<const char*, std::int64_t NodeStatus::*>> fields() {
  return {{"pid", &NodeStatus::pid},
          {"started_ms", &NodeStatus::started_ms},
          {"updated_ms", &NodeStatus::updated_ms},
          {"workers", &NodeStatus::workers},
          {"scp_port", &NodeStatus::scp_port},
          {"active_associations", &NodeStatus::active_associations},
          {"images_received", &NodeStatus::images_received},
          {"files_taken", &NodeStatus::files_taken},
          {"files_not_taken", &NodeStatus::files_not_taken},
          {"images_written", &NodeStatus::images_written},
          {"images_inferred", &NodeStatus::images_inferred},
          {"inference_us", &NodeStatus::inference_us}};
}

constexpr std::int64_t kStaleAfterMs = 10'000;

}  // namespace

std::string to_json(const NodeStatus& status) {
  std::ostringstream out;
  out << "{";
  bool first = true;
  for (const auto& [name, member] : fields()) {
    out << (first ? "" : ",") << "\"" << name << "\":" << status.*member;
    first = false;
  }
  out << "}";
  return out.str();
}

std::optional<NodeStatus> read_node_status(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  const std::string json = text.str();
  NodeStatus status;
  for (const auto& [name, member] : fields()) {
    std::smatch match;
    if (!std::regex_search(json, match, std::regex(std::string("\"") + name + "\":(-?[0-9]+)"))) return std::nullopt;
    status.*member = std::stoll(match[1]);
  }
  return status;
}

bool is_live(const NodeStatus& status, std::int64_t now_ms) {
  if (status.pid <= 0 || now_ms - status.updated_ms > kStaleAfterMs) return false;
  return ::kill(static_cast<pid_t>(status.pid), 0) == 0 || errno == EPERM;
}

}  // namespace creni::app
