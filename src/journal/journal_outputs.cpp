// Journal: which job a result in OUTPUT belongs to. The pipeline asks before a result would take the place of an
// existing file, so that one job's result is never replaced by another's.

#include "creni/journal/journal.hpp"

#include "statements.hpp"

namespace creni::journal {

using namespace detail;

Result<std::optional<std::int64_t>> Journal::other_job_with_output(const std::filesystem::path& output,
                                                                  std::int64_t job_id) {
  const std::lock_guard lock(mutex_);
  return query_int(connection_, "SELECT id FROM jobs WHERE output_path = ? AND id <> ? ORDER BY id LIMIT 1",
                   output.string(), job_id);
}

}  // namespace creni::journal
