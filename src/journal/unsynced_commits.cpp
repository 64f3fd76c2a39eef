// Journal: the commits that need no sync of their own (see journal.hpp): arrivals durable without the journal
// (folder door files, SCP spool files with their own record) and the pipeline's claim of a job that starts a run.

#include "creni/journal/journal.hpp"

#include <utility>

#include "creni/common/crash_point.hpp"
#include "statements.hpp"

namespace creni::journal {

using namespace detail;

namespace {

// synchronous=NORMAL for the transactions run while it lives (the caller holds the journal's mutex throughout, so
// no other commit runs unsynced); FULL again afterwards. A WAL commit under FULL syncs the whole log, the frames
// committed under NORMAL before it included.
class SyncDeferred {
 public:
  explicit SyncDeferred(sqlite::Connection& connection) : connection_(connection) {
    deferred_ = connection_.exec("PRAGMA synchronous=NORMAL").ok();
  }
  SyncDeferred(const SyncDeferred&) = delete;
  SyncDeferred& operator=(const SyncDeferred&) = delete;
  ~SyncDeferred() {
    if (!deferred_) return;
    // Setting the flag back cannot fail short of a misused connection; every later commit depends on it, so it
    // is tried again rather than left.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (const Status restored = connection_.exec("PRAGMA synchronous=FULL"); restored.ok()) return;
      logger()->critical("cannot set synchronous=FULL again on the journal");
    }
  }

 private:
  sqlite::Connection& connection_;
  bool deferred_ = false;
};

}  // namespace

Result<std::vector<RecordedArrival>> Journal::record_arrivals_unsynced(const std::vector<NewArrival>& arrivals) {
  if (Status in_place = check_file_in_place(); !in_place) return in_place.error();
  const std::lock_guard lock(mutex_);
  const SyncDeferred deferred(connection_);
  auto recorded = record_arrivals_locked(arrivals);
  crash_point("journal_arrival_committed_unsynced");
  return recorded;
}

Result<std::optional<Job>> Journal::claim_next_unsynced(int max_attempts) {
  const std::lock_guard lock(mutex_);
  const SyncDeferred deferred(connection_);
  auto transaction = sqlite::Transaction::begin(connection_);
  if (!transaction) return transaction.error();
  auto claimed = claim_next_in_transaction(max_attempts);
  if (!claimed) return claimed.error();
  return committed(*transaction, std::move(claimed).value());
}

}  // namespace creni::journal
