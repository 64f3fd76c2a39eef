// Journal: the commits that need no sync of their own (see journal.hpp): arrivals durable without the journal
// (folder door files, SCP spool files with their own record) and the pipeline's claim of a job that starts a run.

#include "creni/journal/journal.hpp"

#include <utility>

#include "creni/common/crash_point.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

Result<std::vector<RecordedArrival>> Journal::record_arrivals_unsynced(const std::vector<NewArrival>& arrivals) {
  if (Status in_place = check_file_in_place(); !in_place) return in_place.error();
  const std::lock_guard lock(mutex_);
  mutex_.skip_sync();
  auto recorded = record_arrivals_locked(arrivals);
  crash_point("journal_arrival_committed_unsynced");
  return recorded;
}

Result<std::optional<Job>> Journal::claim_next_unsynced(int max_attempts) {
  const std::lock_guard lock(mutex_);
  mutex_.skip_sync();
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto claimed = claim_next_in_transaction(max_attempts);
  if (!claimed) return claimed.error();
  return committed(*transaction, std::move(claimed).value());
}

}  // namespace creni::journal
