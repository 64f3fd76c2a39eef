#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

/// The journal's records of jobs and arrivals: plain values, no behaviour (Journal's job and arrival methods,
/// jobs.cpp and arrivals.cpp).
namespace creni::journal {

/// Where a job is in its life. `received` -> `processing` -> `written` (end without destinations) or, with
/// destinations, on to `forwarding` -> `done` | `forward_failed` | `forward_unknown`. `rejected` is an end from
/// `received` or `processing`. Operators can send ends back to `received` (Journal::reprocess).
enum class JobState { received, processing, written, forwarding, done, rejected, forward_failed, forward_unknown };
/// The name stored in the journal and shown to operators ("received", "forward_unknown", ...).
[[nodiscard]] std::string_view to_string(JobState state);
/// The inverse of to_string(JobState); nullopt for an unknown name.
[[nodiscard]] std::optional<JobState> parse_job_state(std::string_view text);

/// Which front door an arrival came through.
enum class Source { folder, scp };
/// "folder" or "scp".
[[nodiscard]] std::string_view to_string(Source source);
/// The inverse of to_string(Source), for the journal's `source` column: "scp", else folder.
[[nodiscard]] Source parse_source(std::string_view text);

/// One arrival and everything the journal knows about it (a row of `jobs`).
struct Job {
  std::int64_t id = 0;
  std::string gateway_id;
  Source source = Source::folder;
  std::filesystem::path input_path;
  std::string sop_instance_uid;          ///< may be empty when the arrival could not be parsed
  std::string content_hash;              ///< SHA-256 of the input file, lowercase hex
  std::string canonical_hash;            ///< canonical content identity (dicom::canonical_content_hash); "" unknown
  JobState state = JobState::received;
  int attempts = 0;                      ///< processing attempts handed out so far
  std::string reason;                    ///< machine code of the last failure or rejection
  std::string detail;                    ///< human-readable detail of the last failure or rejection
  std::filesystem::path output_path;     ///< set once written
  std::string result_sop_instance_uid;   ///< set once written
  std::int64_t created_at_ms = 0;        ///< unix epoch ms
  std::int64_t updated_at_ms = 0;        ///< unix epoch ms of the last state change
};

/// An arrival to record (Journal::record_arrival).
struct NewArrival {
  std::string gateway_id;
  Source source;
  std::filesystem::path input_path;
  std::string sop_instance_uid;  ///< may be empty (then no duplicate or conflict check by SOP Instance UID)
  std::string content_hash;
  std::string canonical_hash;    ///< canonical content identity when computed ("" unknown): equal ones are duplicates
  std::string association;       ///< the SCP association that carried it (unique per node run), "" for the folder
};

/// What record_arrival decided.
enum class ArrivalOutcome {
  created,    ///< a new `received` job
  same_file,  ///< this very file (same path, same bytes) is already in the journal
  duplicate,  ///< the same instance with the same bytes is already in the journal for this gateway
  conflict,   ///< the SOP Instance UID is known with other bytes: recorded as a new `rejected` job ("conflict")
  known_conflict,  ///< these very bytes were recorded as a conflict before (that job): nothing new is recorded
};

/// The outcome and the job it is about.
struct RecordedArrival {
  ArrivalOutcome outcome;
  std::int64_t job_id;  ///< the new job (created, conflict), or the existing job it matched (same_file, duplicate)
};

}  // namespace creni::journal
