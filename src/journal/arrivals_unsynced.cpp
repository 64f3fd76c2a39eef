// Journal: arrivals committed without a sync, for files that carry their own durable record.

#include "creni/journal/journal.hpp"

#include "creni/common/crash_point.hpp"

#include "statements.hpp"

namespace creni::journal {

namespace {

// synchronous=NORMAL for the life of this object, FULL again afterwards whatever happens: every other write of
// the journal (forwards above all) must stay synced.
class RelaxedSync {
 public:
  explicit RelaxedSync(sqlite::Connection& connection) : connection_(connection) {
    relaxed_ = connection_.exec("PRAGMA synchronous=NORMAL").ok();
  }
  ~RelaxedSync() {
    if (relaxed_) (void)connection_.exec("PRAGMA synchronous=FULL");
  }
  RelaxedSync(const RelaxedSync&) = delete;
  RelaxedSync& operator=(const RelaxedSync&) = delete;

 private:
  sqlite::Connection& connection_;
  bool relaxed_ = false;
};

}  // namespace

Result<std::vector<RecordedArrival>> Journal::record_arrivals_unsynced(const std::vector<NewArrival>& arrivals) {
  if (Status in_place = check_file_in_place(); !in_place) return in_place.error();
  const std::lock_guard lock(mutex_);
  const RelaxedSync relaxed(connection_);
  auto recorded = record_arrivals_locked(arrivals);
  crash_point("journal_arrival_committed_unsynced");
  return recorded;
}

}  // namespace creni::journal
