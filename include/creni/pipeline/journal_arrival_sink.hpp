#pragma once

#include <filesystem>
#include <functional>

#include "creni/config/node_config.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "creni/ingest/arrival_sink.hpp"
#include "creni/journal/journal.hpp"


namespace creni::pipeline {

/// The business side of both doors: turns an Arrival into a journal row before the door acknowledges it.
/// - a symbolic link is recorded as rejected ("symlink") and never read;
/// - the file's SHA-256 and its SOP Instance UID (from the C-STORE command, else from the Part 10 meta header, read
///   without parsing the data set) decide between a new job, a duplicate (same instance, same bytes, from either
///   door) and a conflict (same SOP Instance UID, other bytes: the first is kept, the second is recorded rejected
///   "conflict" and kept once in quarantine: an SCP spool file is moved there, a folder file copied);
/// - when the bytes differ, the canonical content identity of both (`canonical_identity`, computed in a contained
///   process because it parses and decodes the data set) tells the same instance in another transfer syntax or
///   with another meta header (a duplicate) from a real conflict; a conflict retried with the same bytes is
///   answered the same without a new row or quarantine copy;
/// - a file that vanished before it was taken is recorded rejected ("input_vanished");
/// - where the gateway's [processing] non_image is "reject", an object that is not an image is recorded rejected
///   ("not_an_image") and kept once in quarantine, before any door acknowledges it: the SOP class (the C-STORE's
///   Affected SOP Class UID, else the meta header's) decides with dicom::storage_object_kind, and for a class that
///   list does not know, the data set's top level (Pixel Data present or not, dicom::has_pixel_data). A file
///   without a meta header, or one whose data set cannot be told, goes on to a worker, which decides the same way;
/// - anything but a regular file ("not_regular_file") and a file that cannot be read ("unreadable") are refused
///   without a journal row (job id 0): the door reports them, the file may be fixed in place.
/// Thread-safe (the journal serialises writers). `on_new_job` is called after a new job was committed.
class JournalArrivalSink final : public ingest::ArrivalSink {
 public:
  /// The canonical content identity of a file (dicom::canonical_content_hash), or an error when it cannot be told.
  using CanonicalIdentity = std::function<Result<std::string>(const std::filesystem::path&)>;

  /// A gateway's non-image policy (config::NodeConfig::non_image_for).
  using NonImagePolicyOf = std::function<config::NonImagePolicy(const std::string& gateway_id)>;

  /// `quarantine_dir`: where conflicting arrivals are kept (empty: none). `canonical_identity` may be empty: then
  /// only identical bytes make a duplicate. `non_image_policy` may be empty: then every object goes on to a worker.
  JournalArrivalSink(journal::Journal& journal, std::filesystem::path quarantine_dir, std::function<void()> on_new_job,
                     CanonicalIdentity canonical_identity = {}, NonImagePolicyOf non_image_policy = {});

  [[nodiscard]] ingest::AcceptResult accept(const ingest::Arrival& arrival) override;
  /// The whole batch is recorded in one journal transaction (one fsync for a burst of files).
  [[nodiscard]] std::vector<ingest::AcceptResult> accept_all(const std::vector<ingest::Arrival>& arrivals) override;
  /// Recorded in the journal (Journal::record_association_ended).
  void association_ended(const std::string& association) override;

 private:
  // The journal row for an arrival, read from the file (hash, meta identity); errors are refusals.
  Result<journal::NewArrival> prepare(const ingest::Arrival& arrival) const;
  ingest::AcceptResult refuse(const ingest::Arrival& arrival, const Error& why);
  // "not_an_image" when the gateway rejects non-images and this object is one (see the class comment).
  [[nodiscard]] Status check_is_image(const ingest::Arrival& arrival, int fd, const dicom::MetaIdentity& meta) const;
  // When a job of the same instance has other bytes: the canonical identity of both, so that the journal can
  // tell a re-encoded duplicate from a conflict.
  void add_canonical_identity(journal::NewArrival& record) const;
  ingest::AcceptResult decided(const ingest::Arrival& arrival, const journal::NewArrival& record,
                               const journal::RecordedArrival& recorded) const;

  journal::Journal& journal_;
  std::filesystem::path quarantine_dir_;
  std::function<void()> on_new_job_;
  CanonicalIdentity canonical_identity_;
  NonImagePolicyOf non_image_policy_;
};

}  // namespace creni::pipeline
