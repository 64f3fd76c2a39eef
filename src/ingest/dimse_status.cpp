#include "creni/ingest/arrival_sink.hpp"

namespace creni::ingest {

std::uint16_t dimse_status_for(const AcceptResult& result) {
  switch (result.outcome) {
    case AcceptOutcome::accepted:
    case AcceptOutcome::duplicate:
      return 0x0000;
    case AcceptOutcome::out_of_resources:
      return 0xA700;
    case AcceptOutcome::conflict:
      return kStatusConflictingInstance;
    case AcceptOutcome::rejected:
      if (result.reason == "sop_mismatch") return 0xA900;
      if (result.reason == "not_an_image") return kStatusSopClassNotSupported;
      return 0xC000;
  }
  return 0xC000;
}

}  // namespace creni::ingest
