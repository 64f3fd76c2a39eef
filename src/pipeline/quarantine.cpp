#include "quarantine.hpp"

#include <spdlog/spdlog.h>

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

}  // namespace creni::pipeline
