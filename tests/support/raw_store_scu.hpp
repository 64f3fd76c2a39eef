#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::testing {

/// What one raw C-STORE came to.
struct RawStoreResult {
  std::string accepted_syntax;  ///< the syntax the SCP accepted for the context ("" when refused or not associated)
  int status = -1;              ///< the C-STORE-RSP status; -1 when the exchange failed
};

/// One presentation context to propose: an abstract syntax and its transfer syntaxes, in the sender's order.
struct RawContext {
  std::string sop_class;
  std::vector<std::string> transfer_syntaxes;
};

/// One association that sends data set bytes as they are (no DcmDataset, no encoding): each C-STORE writes the
/// command and the data set as raw PDVs (DCMTK's own senders insist on encoding a data set object themselves) and
/// reads the response. Uses the node's stand-in for unknown syntaxes on its own side
/// (ingest/unknown_syntax_contexts.hpp), so HTJ2K can be sent. Released and freed on destruction. Not thread-safe.
class RawStoreAssociation {
 public:
  /// Requests an association from `calling_ae` to `called_ae` at 127.0.0.1:`port` proposing `contexts` (context ids
  /// 1, 3, 5, ... in that order). Error "no_association" with DCMTK's reason.
  [[nodiscard]] static Result<std::unique_ptr<RawStoreAssociation>> open(std::uint16_t port,
                                                                         const std::string& calling_ae,
                                                                         const std::string& called_ae,
                                                                         const std::vector<RawContext>& contexts);
  ~RawStoreAssociation();
  RawStoreAssociation(const RawStoreAssociation&) = delete;
  RawStoreAssociation& operator=(const RawStoreAssociation&) = delete;

  /// The transfer syntax accepted for the `index`th proposed context; "" when it was refused.
  [[nodiscard]] std::string accepted_syntax(std::size_t index) const;
  /// One C-STORE of `dataset` (encoded in the accepted syntax of `sop_class`'s context): the response status, or -1
  /// when no context carries `sop_class` or the exchange failed.
  [[nodiscard]] int store(const std::string& sop_class, const std::string& sop_instance, const std::string& dataset);

 private:
  RawStoreAssociation() = default;

  T_ASC_Network* network_ = nullptr;
  T_ASC_Association* association_ = nullptr;
  std::vector<std::string> accepted_;  // per proposed context, as the SCP answered
};

/// The data set bytes of a Part 10 file (everything after its meta group); "" when it has no readable meta header.
[[nodiscard]] std::string dataset_of(const std::filesystem::path& file);

/// A C-STORE of a Part 10 file's data set bytes as they are, in a transfer syntax DCMTK 3.6.7 need not know (HTJ2K),
/// for what storescu cannot send: one RawStoreAssociation proposing `sop_class` with `proposed` syntaxes (in that
/// order), one C-STORE, released. `file` must have a meta header.
RawStoreResult store_raw(std::uint16_t port, const std::string& calling_ae, const std::string& called_ae,
                         const std::string& sop_class, const std::string& sop_instance,
                         const std::vector<std::string>& proposed, const std::filesystem::path& file);

}  // namespace creni::testing
