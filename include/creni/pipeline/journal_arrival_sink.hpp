#pragma once

#include <filesystem>
#include <functional>

#include "creni/ingest/arrival_sink.hpp"
#include "creni/journal/journal.hpp"


namespace creni::pipeline {

/// The business side of both doors: turns an Arrival into a journal row before the door acknowledges it.
/// - a symbolic link is recorded as rejected ("symlink") and never read;
/// - the file's SHA-256 and its SOP Instance UID (from the C-STORE command, else from the Part 10 meta header, read
///   without parsing the data set) decide between a new job, a duplicate (same instance, same bytes, from either
///   door) and a conflict (same SOP Instance UID, other bytes: the first is kept, the second is recorded rejected
///   "conflict" and a copy goes to quarantine);
/// - a file that vanished before it was taken is reported rejected ("vanished") and not recorded.
/// Thread-safe (the journal serialises writers). `on_new_job` is called after a new job was committed.
class JournalArrivalSink final : public ingest::ArrivalSink {
 public:
  /// `quarantine_dir`: where copies of conflicting arrivals go (empty: none).
  JournalArrivalSink(journal::Journal& journal, std::filesystem::path quarantine_dir, std::function<void()> on_new_job);

  [[nodiscard]] ingest::AcceptResult accept(const ingest::Arrival& arrival) override;
  /// The whole batch is recorded in one journal transaction (one fsync for a burst of files).
  [[nodiscard]] std::vector<ingest::AcceptResult> accept_all(const std::vector<ingest::Arrival>& arrivals) override;
  /// Recorded in the journal (Journal::record_association_ended).
  void association_ended(const std::string& association) override;

 private:
  // The journal row for an arrival, read from the file (hash, meta identity); errors are refusals.
  Result<journal::NewArrival> prepare(const ingest::Arrival& arrival) const;
  ingest::AcceptResult refuse(const ingest::Arrival& arrival, const Error& why);
  ingest::AcceptResult decided(const ingest::Arrival& arrival, const journal::NewArrival& record,
                               const journal::RecordedArrival& recorded) const;

  journal::Journal& journal_;
  std::filesystem::path quarantine_dir_;
  std::function<void()> on_new_job_;
};

}  // namespace creni::pipeline
