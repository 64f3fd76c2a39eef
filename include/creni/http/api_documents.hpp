#pragma once

#include <cstdint>
#include <string>
#include <vector>
#include <nlohmann/json.hpp>

#include "creni/journal/journal.hpp"

namespace creni::http {

/// A JSON document whose members keep the order they were added in (scripts and tests read them in that order).
using Json = nlohmann::ordered_json;

/// The JSON documents of the API, shared with the CLI (`status --json` prints status_document). Field names are
/// a contract with scripts and the dashboard: only ever add fields.

/// "2026-12-03T05:12:00Z" (UTC, seconds).
[[nodiscard]] std::string utc_time(std::int64_t epoch_ms);

/// A job: id, gateway, source, state, attempts, reason, detail, input, output, sop_instance_uid, created, updated.
[[nodiscard]] Json job_document(const journal::Job& job);

/// A forward attempt record: destination, state, attempts, phase, detail, dimse_status, next_attempt, updated.
[[nodiscard]] Json forward_document(const journal::Forward& forward);

/// Series runs for operators: id, gateway, series_instance_uid, run, state, received, expected, age_s, idle_s,
/// completed_by, attempts, result_job, result, summary, reason.
[[nodiscard]] Json series_document(const std::vector<journal::SeriesRecord>& series, std::int64_t now_ms);

/// How many finished series runs `status` shows beside the open ones.
constexpr int kFinishedSeriesShown = 20;

/// What `status --json` prints and GET /api/status answers: {"node": `node` (null when no node runs), "counts",
/// "oldest_waiting", "last_errors", "destinations", "series" (`series`, a series_document)}.
[[nodiscard]] Json status_document(const journal::StatusReport& report, const Json& node, const Json& series);

/// Text of a document for the wire: compact, invalid UTF-8 (paths, peers' text) replaced, never throws.
[[nodiscard]] std::string to_text(const Json& document);

}  // namespace creni::http
