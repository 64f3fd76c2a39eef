#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <string>

namespace creni::ingest {

/// Presentation contexts in a transfer syntax DCMTK 3.6.7 does not know (HTJ2K, 1.2.840.10008.1.2.4.201/.202/.203).
/// Its DIMSE layer checks every command and data set against the context's syntax (DcmXfer) and refuses an unknown
/// one, though neither the commands (always implicit VR) nor the spooled data set bytes (never parsed) need it. So
/// once the context is negotiated under its real UID, the association's own copy of the accepted syntax is replaced
/// by a stand-in DCMTK knows, and the real one is used where it matters: the spool file's meta header
/// (meta_header_for, via negotiated_transfer_syntax).

/// The stand-in: MPEG2 Main Profile @ Main Level, a syntax DCMTK 3.6.7 accepts that the node never negotiates (it is
/// not decodable), with as many characters as the HTJ2K UIDs.
inline constexpr const char* kStandInTransferSyntax = "1.2.840.10008.1.2.4.100";

/// After negotiation (A-ASSOCIATE-AC sent or received): every accepted context whose syntax DCMTK does not know
/// gets kStandInTransferSyntax in the association's local tables. Returns how many were replaced. Not thread-safe
/// for the same association (one session owns it).
int stand_in_for_unknown_syntaxes(T_ASC_Association* association);

/// The transfer syntax the SCP negotiated for context `id`: the accepted one, or for a stand-in the first proposed
/// syntax that DCMTK does not know and dicom::is_storage_transfer_syntax() takes (the one the SCP accepted, since it
/// takes the first proposal it can). "" when `id` is not an accepted context.
[[nodiscard]] std::string negotiated_transfer_syntax(T_ASC_Association* association, T_ASC_PresentationContextID id);

}  // namespace creni::ingest
