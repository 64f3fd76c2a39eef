#include "quarantine.hpp"

#include <spdlog/spdlog.h>

#include "creni/common/directory.hpp"

namespace creni::pipeline {

namespace {

// The folder an input lies in, opened without following a link from the gateway's folder down (an input in
// INPUT/gateway_<id>/...), or as it is (the node's own spool).
Result<fs::Directory> open_input_folder(const std::filesystem::path& input, const std::string& gateway_id) {
  const std::filesystem::path folder = input.parent_path();
  for (auto ancestor = folder; !ancestor.empty() && ancestor != ancestor.root_path(); ancestor = ancestor.parent_path()) {
    if (ancestor.filename() == "gateway_" + gateway_id) {
      return fs::Directory::open_beneath(ancestor.parent_path(), folder.lexically_relative(ancestor.parent_path()),
                                         /*create=*/false);
    }
  }
  return fs::Directory::open_root(folder, /*create=*/false);
}

// The input is opened without following a link (its own name, or a folder between the gateway's folder and it),
// and only as a regular file: a link left in its place (as root, pointing at any file on the machine) or a FIFO
// is never read into quarantine.
Status copy_into_quarantine(const std::filesystem::path& quarantine_dir, const std::string& gateway_id,
                            std::int64_t job_id, const std::filesystem::path& input) {
  auto source_folder = open_input_folder(input, gateway_id);
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
