#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace creni::testing {

/// What one raw C-STORE came to.
struct RawStoreResult {
  std::string accepted_syntax;  ///< the syntax the SCP accepted for the context ("" when refused or not associated)
  int status = -1;              ///< the C-STORE-RSP status; -1 when the exchange failed
};

/// A C-STORE of a Part 10 file's data set bytes as they are, in a transfer syntax DCMTK 3.6.7 need not know (HTJ2K),
/// for what storescu cannot send: one association proposing `sop_class` with `proposed` syntaxes (in that order),
/// the command and the data set written as raw PDVs (DCMTK's own senders insist on encoding a data set object
/// themselves), the response read back, released. Uses the node's stand-in for unknown syntaxes on its own side
/// (ingest/unknown_syntax_contexts.hpp). `file` must have a meta header.
RawStoreResult store_raw(std::uint16_t port, const std::string& calling_ae, const std::string& called_ae,
                         const std::string& sop_class, const std::string& sop_instance,
                         const std::vector<std::string>& proposed, const std::filesystem::path& file);

}  // namespace creni::testing
