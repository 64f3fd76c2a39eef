#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace creni::ingest {

enum class ArrivalSource { folder, scp };

/// A file that one of the two front doors holds durably on disk and wants the node to take over.
struct Arrival {
  std::string gateway_id;          ///< validated gateway id (config::is_valid_gateway_id)
  ArrivalSource source = ArrivalSource::folder;
  std::filesystem::path path;      ///< the complete, fsynced file (INPUT file or SCP spool file)
  std::string sop_class_uid;       ///< SCP: from the C-STORE command (already checked against the dataset)
  std::string sop_instance_uid;    ///< SCP: from the C-STORE command; folder: empty (read later)
  std::string peer;                ///< SCP: "CALLING_AE@address"; folder: empty. A label for logs, never a path.
  std::string association;         ///< SCP: the association that carried it, unique across restarts; folder: empty
  /// SHA-256 of the data set (the bytes after the meta group), as 64 lowercase hex digits, when the door computed
  /// it while receiving; empty: the sink reads the file to compute it.
  std::string content_hash;
  /// The file carries its own durable arrival record (an SCP spool file, see spooled_arrival.hpp): the journal row
  /// may be committed without a sync, because a start after a power cut rebuilds a lost row from the file.
  bool recoverable = false;
};

/// What the node did with an arrival.
enum class AcceptOutcome {
  accepted,          ///< a new job was committed to the journal
  duplicate,         ///< the same instance with the same content is already known: nothing new to do
  conflict,          ///< the same SOP Instance UID with different content: recorded, kept aside (policy)
  rejected,          ///< refused for a reason about the data (invalid UID, not DICOM): recorded
  out_of_resources,  ///< could not be made durable (disk full, journal unavailable): not recorded, retry later
};

struct AcceptResult {
  AcceptOutcome outcome = AcceptOutcome::accepted;
  std::int64_t job_id = 0;         ///< the journal job (new or existing); 0 when none
  std::string reason;              ///< machine code for rejected/conflict/out_of_resources, e.g. "invalid_uid"
  std::string detail;              ///< human-readable detail
};

/// The one entry point shared by both doors. accept() returns only after the outcome is durable (journal row
/// committed), so a door may acknowledge afterwards. Implementations are thread-safe. The file at `path` becomes
/// the node's work only when accept() returns `accepted`; after any other outcome it is the caller's again (the
/// SCP removes its spool file, so that a repeated or refused instance leaves nothing behind; a conflicting one has
/// been moved into quarantine already).
class ArrivalSink {
 public:
  virtual ~ArrivalSink() = default;
  [[nodiscard]] virtual AcceptResult accept(const Arrival& arrival) = 0;
  /// accept() for several arrivals at once, results in the same order; an implementation may make the whole batch
  /// durable with one write (the folder door hands over a burst this way). Default: one by one.
  [[nodiscard]] virtual std::vector<AcceptResult> accept_all(const std::vector<Arrival>& arrivals) {
    std::vector<AcceptResult> results;
    results.reserve(arrivals.size());
    for (const Arrival& arrival : arrivals) results.push_back(accept(arrival));
    return results;
  }
  /// The SCP association `association` (Arrival::association) has ended, released or aborted, after it carried at
  /// least one accepted arrival (a series may complete on release). Default: nothing.
  virtual void association_ended(const std::string& association) { (void)association; }
};

/// C-STORE status of a conflict: same SOP Instance UID, other content (the first one is kept). In the "Error:
/// Cannot understand" range 0xCxxx that PS3.4 section B.2.3 lists for C-STORE (0x0111 "duplicate SOP instance" is a
/// DIMSE status PS3.4 does not list for C-STORE), distinct from 0xC000 so that a sender's log tells them apart.
inline constexpr std::uint16_t kStatusConflictingInstance = 0xC111;

/// C-STORE status of an object refused by the gateway's non-image policy (reason "not_an_image"): "Refused: SOP
/// Class not supported" (PS3.7 section C.5.8, a failure status every C-STORE SCU knows). The object is a valid
/// instance of its class, which this gateway does not take: not 0xA900 (the data set does match its SOP class) nor
/// 0xC000 (it was understood), and not 0xA7xx (trying again later would not help).
inline constexpr std::uint16_t kStatusSopClassNotSupported = 0x0122;

/// DIMSE C-STORE status for an accept() outcome (DESIGN.md rule 3): 0x0000 accepted/duplicate, 0xA700 out of
/// resources, 0xA900 data set does not match SOP class (reason "sop_mismatch"), kStatusSopClassNotSupported (0x0122)
/// for "not_an_image", kStatusConflictingInstance (0xC111) for a conflict, 0xC000 cannot understand (other
/// rejections).
[[nodiscard]] std::uint16_t dimse_status_for(const AcceptResult& result);

}  // namespace creni::ingest
