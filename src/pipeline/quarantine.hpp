#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace creni::pipeline {

/// Keeps a copy of a rejected input for inspection as <quarantine_dir>/gateway_<id>/job-<job id>: named by job id
/// only, never by a DICOM string. The input is never followed if it is a symbolic link and read only if it is a
/// regular file; the copy is created with O_EXCL (temporary file, fsync, rename without replacing), and a copy
/// already kept for the job stays as it is. Does nothing when `quarantine_dir` is empty; a failure is logged,
/// never fatal (the rejection itself is already recorded in the journal).
void keep_in_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                        std::int64_t job_id, const std::filesystem::path& input);

}  // namespace creni::pipeline
