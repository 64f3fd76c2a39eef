#pragma once

#include <cstddef>

#include "creni/journal/journal.hpp"
#include "creni/pipeline/catalog_writer.hpp"
#include "creni/pipeline/pipeline.hpp"

namespace creni::pipeline {

/// The image.db rows the node owes: jobs with a result whose rows were never confirmed (the node stopped, or was
/// killed, between recording the result and committing its rows, or the index was locked or unwritable). Their
/// rows are read again from the result's header (and, for an SCP arrival mirrored into INPUT, the mirrored
/// file's) and queued on `writer`; a result that is gone is confirmed as having nothing to index. Runs at start,
/// before any new result. Returns how many jobs were queued.
std::size_t queue_missing_index_rows(journal::Journal& journal, CatalogWriter& writer, const PipelineOptions& options);

/// The folders whose image.db a job's rows go into.
std::filesystem::path output_folder_of(const PipelineOptions& options, const std::string& gateway_id);
std::filesystem::path mirror_folder_of(const PipelineOptions& options, const std::string& gateway_id);

}  // namespace creni::pipeline
