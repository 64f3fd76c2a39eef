#include "result_sweep.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <vector>

#include "creni/catalog/catalog.hpp"
#include "creni/common/crash_point.hpp"
#include "creni/retention/area_usage.hpp"
#include "file_tree.hpp"

namespace creni::retention {

namespace {

constexpr int kBatch = 50;            // results per transaction: short locks on the journal and image.db
constexpr int kListed = 500;          // candidates read per query

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("retention");
  return named ? named : spdlog::default_logger();
}

std::filesystem::path gateway_folder(const std::filesystem::path& root, const std::string& gateway_id) {
  return root / ("gateway_" + gateway_id);
}

// The copy of an SCP arrival the node placed in INPUT/gateway_<id>/, or empty (a folder arrival's input is the
// gateway's, never ours to delete).
std::filesystem::path own_input_copy(const ResultSweepContext& context, const journal::SweepCandidate& result) {
  if (result.source != journal::Source::scp) return {};
  return is_below(result.input_path, gateway_folder(context.input_dir, result.gateway_id)) ? result.input_path
                                                                                          : std::filesystem::path();
}

// Removes the rows from `index` when it exists (a missing image.db is not created just to find nothing in it).
bool remove_rows(const std::filesystem::path& index, const std::vector<catalog::StoredImage>& rows) {
  if (rows.empty() || !std::filesystem::exists(index)) return true;
  auto catalog = catalog::Catalog::open_for_writing(index);
  if (!catalog) {
    logger()->warn("cannot open {}: {}", index.string(), catalog.error().describe());
    return false;
  }
  auto removed = catalog.value()->remove_images(rows);
  if (!removed) {
    logger()->warn("cannot remove rows from {}: {}", index.string(), removed.error().describe());
    return false;
  }
  return true;
}

// Removes a file; true when it is gone (also when it was already gone). Adds its size to `bytes`.
bool remove_file(const std::filesystem::path& file, std::int64_t& bytes) {
  if (file.empty()) return true;
  std::error_code ec;
  const auto size = std::filesystem::file_size(file, ec);
  const bool existed = !ec;
  if (!std::filesystem::remove(file, ec) && ec) {
    logger()->warn("cannot remove {}: {}", file.string(), ec.message());
    return false;
  }
  if (existed) bytes += static_cast<std::int64_t>(size);
  return true;
}

// The study folder the node made for its copy of an SCP arrival (INPUT/gateway_<id>/<StudyUID>), once the sweep
// has removed the copy and nothing else is in it. Left behind, every study would keep an empty folder in INPUT for
// good, and with it one of the folder door's inotify watches (a limited resource, 8,192 per user by default) and
// its entry in the watcher's table: the retention soak's RSS grew by one such folder a second. rmdir removes only
// an empty folder and never follows a link; a gateway's file in the same folder keeps it. A worker mirroring
// another instance of the study at that instant makes the folder again (mirror_into_input).
void remove_emptied_study_folder(const ResultSweepContext& context, const journal::SweepCandidate& result,
                                 const std::filesystem::path& copy) {
  const auto folder = copy.parent_path();
  if (copy.empty() || folder == gateway_folder(context.input_dir, result.gateway_id)) return;
  if (::rmdir(folder.c_str()) == 0) {
    logger()->debug("gw={} emptied study folder {} removed", result.gateway_id, folder.string());
  }
}

// Every trace of results already marked `sweeping`: image.db rows first (one transaction per file: a study is
// removed whole or not at all), then the files, then `swept`. A crash anywhere leaves them `sweeping`, and
// repeating the steps converges.
void remove_traces(const ResultSweepContext& context, const std::vector<journal::SweepCandidate>& results,
                   SweepReport& report) {
  std::map<std::filesystem::path, std::vector<catalog::StoredImage>> rows_by_index;
  for (const auto& result : results) {
    rows_by_index[gateway_folder(context.output_dir, result.gateway_id) / "image.db"].push_back(
        {result.result_sop_instance_uid, result.output_path});
    const auto copy = own_input_copy(context, result);
    if (!copy.empty()) {
      rows_by_index[gateway_folder(context.input_dir, result.gateway_id) / "image.db"].push_back({result.sop_instance_uid, copy});
    }
  }
  for (const auto& [index, rows] : rows_by_index) {
    if (!remove_rows(index, rows)) {
      ++report.errors;
      return;  // files stay while their rows do: the next sweep tries again
    }
  }
  crash_point("retention_uncatalogued");
  std::vector<std::int64_t> swept;
  for (const auto& result : results) {
    std::int64_t bytes = 0;
    const auto copy = own_input_copy(context, result);
    if (remove_file(result.output_path, bytes) && remove_file(copy, bytes)) {
      remove_emptied_study_folder(context, result, copy);
      swept.push_back(result.job_id);
      ++report.results_removed;
      report.result_bytes_removed += bytes;
      logger()->debug("gw={} job={} sop={} result removed ({} bytes)", result.gateway_id, result.job_id,
                      result.sop_instance_uid, bytes);
    } else {
      ++report.errors;
    }
  }
  if (Status finished = context.queries.finish_sweep(swept); !finished) {
    logger()->warn("cannot record {} swept result(s): {}", swept.size(), finished.error().describe());
    ++report.errors;
  }
}

// Marks `doomed` as `sweeping` (the rule is checked again) and removes what was marked.
void sweep_batch(const ResultSweepContext& context, const std::vector<journal::SweepCandidate>& doomed,
                 bool include_unforwarded, SweepReport& report) {
  std::vector<std::int64_t> ids;
  for (const auto& result : doomed) ids.push_back(result.job_id);
  auto marked = context.queries.begin_sweep(ids, include_unforwarded);
  if (!marked) {
    logger()->warn("cannot mark {} result(s) for removal: {}", ids.size(), marked.error().describe());
    ++report.errors;
    return;
  }
  crash_point("retention_marked");
  std::vector<journal::SweepCandidate> results;
  for (const auto& result : doomed) {
    if (std::find(marked->begin(), marked->end(), result.job_id) != marked->end()) results.push_back(result);
  }
  remove_traces(context, results, report);
}

}  // namespace

void resume_interrupted(const ResultSweepContext& context, SweepReport& report) {
  while (true) {
    auto left = context.queries.interrupted_sweeps(kBatch);
    if (!left) {
      logger()->warn("cannot list interrupted removals: {}", left.error().describe());
      ++report.errors;
      return;
    }
    if (left->empty()) return;
    logger()->info("completing the removal of {} result(s) interrupted by a stop or crash", left->size());
    const auto errors_before = report.errors;
    remove_traces(context, left.value(), report);
    if (report.errors != errors_before || !context.pace()) return;  // what failed stays for the next sweep
  }
}

void sweep_results(const ResultSweepContext& context, const std::string& gateway_id,
                   const config::RetentionLimits& limits, std::int64_t now_ms, SweepReport& report) {
  const bool by_age = limits.output_max_age_s != config::kNoAgeLimit;
  const bool by_size = limits.output_max_bytes != config::kNoSizeLimit;
  if (!by_age && !by_size) return;
  const std::int64_t cutoff_ms = by_age ? now_ms - limits.output_max_age_s * 1000 : INT64_MIN;
  std::int64_t bytes = by_size ? measure_tree(gateway_folder(context.output_dir, gateway_id)).bytes : 0;
  const auto over_cap = [&] { return by_size && static_cast<std::uint64_t>(bytes) > limits.output_max_bytes; };

  std::int64_t after_id = 0;
  bool more = true;
  while (more) {
    auto listed = context.queries.results_to_sweep(gateway_id, limits.delete_unforwarded, after_id, kListed);
    if (!listed) {
      logger()->warn("gw={} cannot list results to remove: {}", gateway_id, listed.error().describe());
      ++report.errors;
      return;
    }
    more = listed->size() == static_cast<std::size_t>(kListed);
    std::vector<journal::SweepCandidate> doomed;
    for (const auto& result : listed.value()) {
      after_id = result.job_id;
      if (result.finished_at_ms < cutoff_ms || over_cap()) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(result.output_path, ec);
        if (!ec) bytes -= static_cast<std::int64_t>(size);
        doomed.push_back(result);
      } else if (result.created_at_ms >= cutoff_ms) {
        more = false;  // oldest first by id: every later result arrived after the cut-off and the cap is met
        break;
      }
      if (doomed.size() == static_cast<std::size_t>(kBatch)) {
        sweep_batch(context, doomed, limits.delete_unforwarded, report);
        doomed.clear();
        if (!context.pace()) return;
      }
    }
    if (!doomed.empty()) sweep_batch(context, doomed, limits.delete_unforwarded, report);
    if (!context.pace()) return;
  }
  if (by_age) {
    auto undelivered = context.queries.count_undelivered(gateway_id, cutoff_ms);
    if (undelivered) report.undelivered_kept += undelivered.value();
  }
  if (over_cap()) {
    logger()->warn("gw={} OUTPUT holds {} bytes, above output_max_bytes {}: the rest is not yet delivered (or not "
                   "yet indexed) and stays", gateway_id, bytes, limits.output_max_bytes);
  }
}

}  // namespace creni::retention
