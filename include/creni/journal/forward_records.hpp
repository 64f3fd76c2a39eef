#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

/// The journal's records of forwards (one result to one destination): plain values, no behaviour (Journal's
/// forward methods, forwards.cpp).
namespace creni::journal {

/// One forward to make, handed out by claim_forward (already recorded as `forwarding`, attempt counted).
struct ForwardTask {
  std::int64_t id;
  std::int64_t job_id;
  std::string gateway_id;
  std::string destination;
  std::filesystem::path output_path;
  std::string result_sop_instance_uid;
  int attempts;  ///< including this one
  std::int64_t job_created_at_ms = 0;  ///< when the job's arrival was recorded (for the time to forwarded)
};

/// Where one forward (one job to one destination) is.
enum class ForwardState { waiting, forwarding, done, forward_failed, forward_unknown };
/// The name stored in the journal ("waiting", ...).
[[nodiscard]] std::string_view to_string(ForwardState state);
/// The inverse of to_string(ForwardState); nullopt for an unknown name.
[[nodiscard]] std::optional<ForwardState> parse_forward_state(std::string_view text);

/// The result of one forward attempt, as the sender saw it.
struct ForwardOutcome {
  ForwardState state;     ///< done, forward_failed or forward_unknown
  std::string phase;      ///< where it ended ("associate", "store", "release", ...)
  std::string detail;
  int dimse_status = -1;  ///< the peer's DIMSE status, -1 when none was received
};

/// How one claimed forward ended, to be recorded (Journal::record_forward_outcomes_and_claim).
struct ForwardResult {
  std::int64_t task_id = 0;
  ForwardOutcome outcome;
  std::optional<std::int64_t> retry_at_ms;  ///< for forward_failed only: when to try again
};

/// A row of `forwards`, for inspection (Journal::forwards_of).
struct Forward {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::string destination;
  ForwardState state = ForwardState::waiting;
  int attempts = 0;
  std::string phase;
  std::string detail;
  int dimse_status = -1;
  std::optional<std::int64_t> next_attempt_at_ms;  ///< unix epoch ms; nullopt: as soon as possible
  std::int64_t updated_at_ms = 0;
};

}  // namespace creni::journal
