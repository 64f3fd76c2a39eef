#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <string>

#include "creni/common/result.hpp"

namespace creni::ingest {

/// The start of a spool file for one C-STORE, as bytes: the 128-byte preamble (zeros; the arrival record is written
/// over it when the file is sealed), "DICM" and the File Meta Information group (PS3.10 section 7.1) that the
/// command and the presentation context `context_id` describe: the elements and encoding DIMSE_createFilestream
/// writes, with the transfer syntax the SCP negotiated (negotiated_transfer_syntax: the real one where DCMTK only
/// knows a stand-in). Built in memory so that the spool file is opened once and written with the data set through
/// one descriptor. Errors "dcmtk_error" (the context is not accepted, the group cannot be encoded).
[[nodiscard]] Result<std::string> meta_header_for(const T_DIMSE_C_StoreRQ& request, T_ASC_Association* association,
                                                  T_ASC_PresentationContextID context_id);

}  // namespace creni::ingest
