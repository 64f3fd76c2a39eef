#include "quarantine.hpp"

#include <spdlog/spdlog.h>

#include "creni/common/directory.hpp"

namespace creni::pipeline {

namespace {

// The input is opened by its last name without following it, and only as a regular file: a link left in its
// place (as root, pointing at any file on the machine) or a FIFO is never read into quarantine.
Status copy_into_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                            std::int64_t job_id, const std::filesystem::path& input) {
  auto source_folder = fs::Directory::open_root(input.parent_path(), /*create=*/false);
  if (!source_folder) return source_folder.error();
  auto source = source_folder->open_regular_file(input.filename().string());
  if (!source) return source.error();
  auto folder = fs::Directory::open_beneath(quarantine_dir, "gateway_" + gateway_id, /*create=*/true);
  if (!folder) return folder.error();
  // A copy kept earlier for the same job (rejected again after a reprocess) stays: the first evidence is kept.
  Status copied = folder->copy_in(source->get(), "job-" + std::to_string(job_id));
  if (!copied && copied.error().code == "exists") return {};
  return copied;
}

}  // namespace

void keep_in_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                        std::int64_t job_id, const std::filesystem::path& input) {
  if (quarantine_dir.empty()) return;
  if (Status kept = copy_into_quarantine(quarantine_dir, gateway_id, job_id, input); !kept) {
    auto logger = spdlog::get("pipeline");
    (logger ? logger : spdlog::default_logger())
        ->warn("gw={} job={} cannot quarantine {}: {}", gateway_id, job_id, input.string(), kept.error().describe());
  }
}

}  // namespace creni::pipeline
