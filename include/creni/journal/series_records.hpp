#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// The journal's records of series: plain values, no behaviour (Journal's series methods, journal_series.cpp).
namespace creni::journal {

/// Where a series run is. `open` (instances arrive) -> `complete` (a completion signal held; waiting for its
/// series job) -> `reporting` (the series job runs) -> `reported` (its Structured Report is written and queued for
/// forwarding) | `failed` (the series job failed twice, or for a reason that retrying cannot change).
/// An instance of a series whose run is no longer `open` starts a new run (LatePolicy).
enum class SeriesState { open, complete, reporting, reported, failed };
/// The name stored in the journal ("open", "reported", ...).
[[nodiscard]] std::string_view to_string(SeriesState state);
/// The inverse of to_string(SeriesState); nullopt for an unknown name.
[[nodiscard]] std::optional<SeriesState> parse_series_state(std::string_view text);

/// What a late instance (its series' run is complete or further) starts: a run with every instance of the series
/// so far ("reopen") or with the late instances only ("separate").
enum class LateArrival { reopen, separate };

/// One written instance as the series sees it: what the worker read from it, handed to Journal::mark_written so
/// that the job's result and its place in the series are one commit.
struct SeriesMember {
  std::string study_instance_uid;          ///< the original's
  std::string series_instance_uid;         ///< the original's
  std::string sop_class_uid;
  std::string sop_instance_uid;            ///< the original's
  std::string result_study_instance_uid;   ///< the result's (where the series' report goes)
  std::string result_series_instance_uid;
  std::string result_sop_instance_uid;
  std::int64_t expected = 0;               ///< instances the series should have (0: unknown)
  std::string instance_number;             ///< DICOM text, may be empty
  std::string image_position;              ///< ImagePositionPatient "x\y\z", may be empty
  std::string image_orientation;           ///< ImageOrientationPatient, six values, may be empty
  std::string rows;                        ///< DICOM text, may be empty
  std::string columns;
  std::string pixel_spacing;               ///< "row\column", may be empty
  std::string header;                      ///< "<table>.<column>=<value>" lines of the result's patient, study
                                           ///< and series rows (for the report's patient and study modules)
  LateArrival late = LateArrival::reopen;  ///< the gateway's policy, applied when the series' run is complete
};

/// One run of one series of one gateway (a row of `series`).
struct SeriesRecord {
  std::int64_t id = 0;
  std::string gateway_id;
  std::string study_instance_uid;
  std::string series_instance_uid;
  int run = 1;                              ///< 1 for the first run of the series, +1 for each late run
  SeriesState state = SeriesState::open;
  std::int64_t received = 0;                ///< instances in this run
  std::int64_t expected = 0;                ///< 0: unknown
  std::int64_t first_arrival_ms = 0;        ///< unix epoch ms when its first instance was written
  std::int64_t last_arrival_ms = 0;         ///< ... its last
  std::string last_association;             ///< the SCP association of its last instance ("" for the folder door)
  bool association_ended = false;           ///< that association has ended
  std::int64_t association_pending = 0;     ///< jobs of that association not yet written or rejected
  std::string completed_by;                 ///< "expected_count", "release", "idle", "max_wait", "" while open
  std::int64_t completed_at_ms = 0;
  int attempts = 0;                         ///< series jobs handed out
  std::int64_t result_job_id = 0;           ///< the job of its report (forwarded like any result), 0 before
  std::string result_path;                  ///< the report's file
  std::string summary;                      ///< the findings in one line, or the failure
  std::string reason;                       ///< machine code of a failure
  std::string header;                       ///< SeriesMember::header of its first instance
  std::int64_t updated_at_ms = 0;
};

/// One instance of a run (a row of `series_members`).
struct SeriesInstance {
  std::int64_t job_id = 0;
  std::string sop_class_uid;
  std::string sop_instance_uid;
  std::string result_sop_instance_uid;
  std::string instance_number;
  std::string image_position;
  std::string image_orientation;
  std::string rows;
  std::string columns;
  std::string pixel_spacing;
  std::filesystem::path input_path;    ///< the job's input (may be gone after input.after_processing)
  std::filesystem::path output_path;   ///< the job's result
};

/// A run handed out by Journal::claim_series (recorded `reporting`, attempt counted), with its instances.
struct SeriesRun {
  SeriesRecord series;
  std::vector<SeriesInstance> instances;  ///< in the order they were written
};

/// What a series job produced (Journal::record_series_report).
struct SeriesReport {
  std::filesystem::path output;          ///< the Structured Report, durable in OUTPUT/gateway_<id>/
  std::string sop_instance_uid;          ///< its SOP Instance UID
  std::string summary;                   ///< the findings in one line
};

}  // namespace creni::journal
