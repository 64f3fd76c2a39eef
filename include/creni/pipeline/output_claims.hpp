#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>

namespace creni::pipeline {

/// Results being committed and not yet recorded, by output path. The journal names a result's job only once it
/// is recorded; until then this is where two jobs whose results would share one name (the same SOP Instance UID
/// from different sources) find out about each other. Thread-safe.
class OutputClaims {
 public:
  /// Claims `output` for `job_id`. Returns the job that already holds it when that is another job (the claim is
  /// then refused), nullopt when the claim is `job_id`'s.
  [[nodiscard]] std::optional<std::int64_t> claim(const std::filesystem::path& output, std::int64_t job_id);

  /// Gives `output` up if `job_id` holds it (its result is recorded, or will not be).
  void release(const std::filesystem::path& output, std::int64_t job_id);

 private:
  std::mutex mutex_;
  std::map<std::filesystem::path, std::int64_t> holders_;
};

}  // namespace creni::pipeline
