#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <cstdint>
#include <string>

#include "association_session.hpp"
#include "association_watchdog.hpp"

namespace creni::ingest {

/// How one C-STORE ended, for the response and the log.
struct StoreReply {
  bool association_broken = false;  ///< receiving failed midway: nothing can be answered, the association must end
  std::uint16_t status = STATUS_Success;
  std::string comment;  ///< ErrorComment (0000,0902) for failures, at most 64 characters
  std::int64_t job_id = 0;
  std::string sop_instance_uid;  ///< from the command, padding stripped
};

/// Who sent a C-STORE and on which association.
struct StoreOrigin {
  T_ASC_Association* association = nullptr;
  std::string gateway_id;
  std::string peer_label;  ///< "CALLING_AE@address"
  SessionProgress* progress = nullptr;  ///< the association's progress, for the watchdog; may be null
  std::string association_id;  ///< unique across restarts (Arrival::association)
};

/// Receives the data set of one C-STORE-RQ into the spool byte for byte, checks that its own SOP Class and
/// Instance UIDs equal the command's, makes it durable (fsync of the file, then of the spool folder) and hands it to the
/// sink; the reply's status is what the C-STORE-RSP must carry (dimse_status_for the sink's outcome, or 0xA700,
/// 0xA900, 0xC000, 0x0122 decided here). Reads the data set even when refusing early, so the association stays
/// usable. Nothing is left in the spool unless the sink took it. Never throws.
[[nodiscard]] StoreReply receive_store(ScpShared& shared, const StoreOrigin& origin,
                                       T_ASC_PresentationContextID context_id,
                                       const T_DIMSE_C_StoreRQ& request) noexcept;

}  // namespace creni::ingest
