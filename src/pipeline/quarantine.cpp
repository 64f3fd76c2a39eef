#include "quarantine.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdio.h>

#include <cerrno>
#include <cstring>

namespace creni::pipeline {

void keep_in_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                        std::int64_t job_id, const std::filesystem::path& input) {
  if (quarantine_dir.empty()) return;
  const auto folder = quarantine_dir / ("gateway_" + gateway_id);
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (!ec) {
    std::filesystem::copy_file(input, folder / ("job-" + std::to_string(job_id)),
                               std::filesystem::copy_options::overwrite_existing, ec);
  }
  if (ec) {
    auto logger = spdlog::get("pipeline");
    (logger ? logger : spdlog::default_logger())
        ->warn("gw={} job={} cannot quarantine {}: {}", gateway_id, job_id, input.string(), ec.message());
  }
}

std::optional<std::filesystem::path> move_into_quarantine(const std::filesystem::path& quarantine_dir,
                                                          const std::string& gateway_id, std::int64_t job_id,
                                                          const std::filesystem::path& input) {
  if (quarantine_dir.empty()) return std::nullopt;
  const auto folder = quarantine_dir / ("gateway_" + gateway_id);
  const auto target = folder / ("job-" + std::to_string(job_id));
  std::error_code ec;
  std::filesystem::create_directories(folder, ec);
  if (!ec && ::renameat2(AT_FDCWD, input.c_str(), AT_FDCWD, target.c_str(), RENAME_NOREPLACE) == 0) return target;
  auto logger = spdlog::get("pipeline");
  (logger ? logger : spdlog::default_logger())
      ->warn("gw={} job={} cannot move {} into quarantine: {}", gateway_id, job_id, input.string(),
             ec ? ec.message() : std::strerror(errno));
  return std::nullopt;
}

void keep_rejected_input(journal::Journal& journal, const std::filesystem::path& quarantine_dir,
                         const std::string& gateway_id, std::int64_t job_id, const std::filesystem::path& input,
                         bool held_by_node) {
  if (held_by_node) {
    if (const auto moved = move_into_quarantine(quarantine_dir, gateway_id, job_id, input)) {
      if (Status recorded = journal.set_input_path(job_id, *moved); !recorded) {
        auto logger = spdlog::get("pipeline");
        (logger ? logger : spdlog::default_logger())
            ->warn("gw={} job={} moved to {} but not recorded: {}", gateway_id, job_id, moved->string(),
                   recorded.error().describe());
      }
      return;
    }
  }
  keep_in_quarantine(quarantine_dir, gateway_id, job_id, input);
}

}  // namespace creni::pipeline
