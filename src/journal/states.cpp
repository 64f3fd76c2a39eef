#include <array>
#include <utility>

#include "creni/journal/journal.hpp"

namespace creni::journal {

namespace {

// The stored names are part of the file format and of the operator CLI: never rename one.
constexpr std::array<std::pair<JobState, std::string_view>, 8> kJobStateNames{{
    {JobState::received, "received"},
    {JobState::processing, "processing"},
    {JobState::written, "written"},
    {JobState::forwarding, "forwarding"},
    {JobState::done, "done"},
    {JobState::rejected, "rejected"},
    {JobState::forward_failed, "forward_failed"},
    {JobState::forward_unknown, "forward_unknown"},
}};

constexpr std::array<std::pair<ForwardState, std::string_view>, 5> kForwardStateNames{{
    {ForwardState::waiting, "waiting"},
    {ForwardState::forwarding, "forwarding"},
    {ForwardState::done, "done"},
    {ForwardState::forward_failed, "forward_failed"},
    {ForwardState::forward_unknown, "forward_unknown"},
}};

}  // namespace

std::string_view to_string(JobState state) {
  for (const auto& [value, name] : kJobStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<JobState> parse_job_state(std::string_view text) {
  for (const auto& [value, name] : kJobStateNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

std::string_view to_string(Source source) { return source == Source::scp ? "scp" : "folder"; }

Source parse_source(std::string_view text) { return text == "scp" ? Source::scp : Source::folder; }

std::string_view to_string(ForwardState state) {
  for (const auto& [value, name] : kForwardStateNames) {
    if (value == state) return name;
  }
  return "unknown";
}

std::optional<ForwardState> parse_forward_state(std::string_view text) {
  for (const auto& [value, name] : kForwardStateNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace creni::journal
