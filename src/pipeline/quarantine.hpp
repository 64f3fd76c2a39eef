#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "creni/journal/journal.hpp"

namespace creni::pipeline {

/// Keeps a copy of a rejected input for inspection as <quarantine_dir>/gateway_<id>/job-<job id>: named by job id
/// only, never by a DICOM string. The input is never followed if it is a symbolic link and read only if it is a
/// regular file; the copy is created with O_EXCL (temporary file, fsync, rename without replacing), and a copy
/// already kept for the job stays as it is. Does nothing when `quarantine_dir` is empty; a failure is logged,
/// never fatal (the rejection itself is already recorded in the journal).
void keep_in_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                        std::int64_t job_id, const std::filesystem::path& input);

/// Moves a rejected input that only the node holds (an SCP spool file) into quarantine as
/// <quarantine_dir>/gateway_<id>/job-<job id>, so that it is kept once and not in the spool as well. Never replaces
/// a file there (RENAME_NOREPLACE). Returns the new path; nullopt when the input stayed where it was (quarantine
/// off, or the move failed: logged).
[[nodiscard]] std::optional<std::filesystem::path> move_into_quarantine(const std::filesystem::path& quarantine_dir,
                                                                        const std::string& gateway_id,
                                                                        std::int64_t job_id,
                                                                        const std::filesystem::path& input);

/// Keeps a rejected input once: a file only the node holds (`held_by_node`: an SCP spool file) is moved into
/// quarantine and the job's input path follows it; anything else (a gateway's file in INPUT) is copied.
void keep_rejected_input(journal::Journal& journal, const std::filesystem::path& quarantine_dir,
                         const std::string& gateway_id, std::int64_t job_id, const std::filesystem::path& input,
                         bool held_by_node);

}  // namespace creni::pipeline
