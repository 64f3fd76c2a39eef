#include "creni/app/node_status.hpp"

#include <signal.h>

#include <cerrno>
#include <fstream>
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
          {"images_written", &NodeStatus::images_written},
          {"images_inferred", &NodeStatus::images_inferred},
          {"inference_us", &NodeStatus::inference_us}};
}

constexpr std::int64_t kStaleAfterMs = 10'000;

}  // namespace

http::Json to_document(const NodeStatus& status) {
  http::Json document = http::Json::object();
  for (const auto& [name, member] : fields()) document[name] = status.*member;
  return document;
}

std::string to_json(const NodeStatus& status) { return http::to_text(to_document(status)); }

std::optional<NodeStatus> read_node_status(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  // A file cut short or written by someone else is "no status", never an exception.
  const http::Json document = http::Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!document.is_object()) return std::nullopt;
  NodeStatus status;
  for (const auto& [name, member] : fields()) {
    const auto found = document.find(name);
    if (found == document.end() || !found->is_number_integer()) return std::nullopt;
    status.*member = found->get<std::int64_t>();
  }
  return status;
}

bool is_live(const NodeStatus& status, std::int64_t now_ms) {
  if (status.pid <= 0 || now_ms - status.updated_ms > kStaleAfterMs) return false;
  return ::kill(static_cast<pid_t>(status.pid), 0) == 0 || errno == EPERM;
}

}  // namespace creni::app
