#include "creni/pipeline/output_claims.hpp"

namespace creni::pipeline {

std::optional<std::int64_t> OutputClaims::claim(const std::filesystem::path& output, std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  const auto [entry, added] = holders_.try_emplace(output, job_id);
  if (added || entry->second == job_id) return std::nullopt;
  return entry->second;
}

void OutputClaims::release(const std::filesystem::path& output, std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  const auto entry = holders_.find(output);
  if (entry != holders_.end() && entry->second == job_id) holders_.erase(entry);
}

}  // namespace creni::pipeline
