#include "creni/pipeline/index_repair.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace creni::pipeline {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

bool lies_under(const std::filesystem::path& file, const std::filesystem::path& folder) {
  const auto relative = file.lexically_normal().lexically_relative(folder.lexically_normal());
  return !relative.empty() && *relative.begin() != "..";
}

}  // namespace

std::filesystem::path output_folder_of(const PipelineOptions& options, const std::string& gateway_id) {
  return options.output_dir / ("gateway_" + gateway_id);
}

std::filesystem::path mirror_folder_of(const PipelineOptions& options, const std::string& gateway_id) {
  return options.input_dir / ("gateway_" + gateway_id);
}

std::size_t queue_missing_index_rows(journal::Journal& journal, CatalogWriter& writer, const PipelineOptions& options) {
  auto owed = journal.jobs_awaiting_catalogue(-1);
  if (!owed) {
    logger()->error("cannot list the image.db rows to repair: {}", owed.error().describe());
    return 0;
  }
  std::size_t queued = 0;
  std::vector<std::int64_t> nothing_to_index;
  for (const journal::Job& job : owed.value()) {
    std::vector<CatalogEntry> entries;
    auto result = catalog::record_from_file(job.output_path);
    if (!result) {
      // The result is gone (an operator removed it) or damaged: there is nothing true to index, now or at the
      // next start, so the journal stops asking.
      logger()->warn("gw={} job={} image.db row not repaired: {}", job.gateway_id, job.id, result.error().describe());
      nothing_to_index.push_back(job.id);
      continue;
    }
    entries.push_back(CatalogEntry{output_folder_of(options, job.gateway_id), std::move(result).value()});
    const auto mirror_folder = mirror_folder_of(options, job.gateway_id);
    if (job.source == journal::Source::scp && lies_under(job.input_path, mirror_folder)) {
      if (auto mirrored = catalog::record_from_file(job.input_path)) {
        entries.push_back(CatalogEntry{mirror_folder, std::move(mirrored).value()});
      }
    }
    writer.add(job.id, std::move(entries));
    ++queued;
  }
  if (Status settled = journal.mark_catalogued(nothing_to_index); !settled) {
    logger()->warn("cannot record {} result(s) without an index row: {}", nothing_to_index.size(),
                   settled.error().describe());
  }
  if (queued > 0) logger()->warn("repairing image.db: {} result(s) were recorded but not yet indexed", queued);
  return queued;
}

}  // namespace creni::pipeline
