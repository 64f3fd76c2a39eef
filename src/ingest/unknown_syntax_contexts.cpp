#include "creni/ingest/unknown_syntax_contexts.hpp"

#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmnet/dul.h>
#include <dcmtk/dcmnet/lst.h>
#include <dcmtk/ofstd/ofstd.h>

#include <functional>

#include "creni/dicom/storage_classes.hpp"

namespace creni::ingest {

namespace {

bool known_to_dcmtk(const char* transfer_syntax) { return DcmXfer(transfer_syntax).getXfer() != EXS_Unknown; }

// Calls `visit` for each presentation context of `list` (DCMTK's own list type, walked its way).
void for_each_context(LST_HEAD** list, const std::function<void(DUL_PRESENTATIONCONTEXT&)>& visit) {
  if (list == nullptr || *list == nullptr) return;
  auto* context = static_cast<DUL_PRESENTATIONCONTEXT*>(LST_Head(list));
  if (context != nullptr) (void)LST_Position(list, context);
  while (context != nullptr) {
    visit(*context);
    context = static_cast<DUL_PRESENTATIONCONTEXT*>(LST_Next(list));
  }
}

// Both lists: the requested one (where an acceptor records its answers) and the accepted one (what a requestor
// was told, and what DCMTK looks up on both sides).
void for_each_accepted(T_ASC_Association* association, const std::function<void(DUL_PRESENTATIONCONTEXT&)>& visit) {
  if (association == nullptr || association->params == nullptr) return;
  auto& params = association->params->DULparams;
  const auto accepted_only = [&visit](DUL_PRESENTATIONCONTEXT& context) {
    if (context.result == ASC_P_ACCEPTANCE) visit(context);
  };
  for_each_context(&params.requestedPresentationContext, accepted_only);
  for_each_context(&params.acceptedPresentationContext, accepted_only);
}

// The SCP accepts the first proposed syntax it takes (the sender's order), so with a stand-in that was the first
// proposed one DCMTK does not know among the node's storage syntaxes.
std::string first_unknown_proposal(DUL_PRESENTATIONCONTEXT& context) {
  std::string found;
  LST_HEAD** proposals = &context.proposedTransferSyntax;
  if (*proposals == nullptr) return found;
  auto* syntax = static_cast<DUL_TRANSFERSYNTAX*>(LST_Head(proposals));
  if (syntax != nullptr) (void)LST_Position(proposals, syntax);
  while (syntax != nullptr && found.empty()) {
    if (!known_to_dcmtk(syntax->transferSyntax) && dicom::is_storage_transfer_syntax(syntax->transferSyntax)) {
      found = syntax->transferSyntax;
    }
    syntax = static_cast<DUL_TRANSFERSYNTAX*>(LST_Next(proposals));
  }
  return found;
}

}  // namespace

int stand_in_for_unknown_syntaxes(T_ASC_Association* association) {
  int replaced = 0;
  for_each_accepted(association, [&replaced](DUL_PRESENTATIONCONTEXT& context) {
    if (known_to_dcmtk(context.acceptedTransferSyntax)) return;
    OFStandard::strlcpy(context.acceptedTransferSyntax, kStandInTransferSyntax, sizeof(context.acceptedTransferSyntax));
    ++replaced;
  });
  return replaced;
}

std::string negotiated_transfer_syntax(T_ASC_Association* association, T_ASC_PresentationContextID id) {
  std::string negotiated;
  std::string proposed;
  for_each_accepted(association, [&](DUL_PRESENTATIONCONTEXT& context) {
    if (context.presentationContextID != id) return;
    negotiated = context.acceptedTransferSyntax;
    // The requestor's accepted list has no proposals; the requested list of either side has them.
    if (proposed.empty()) proposed = first_unknown_proposal(context);
  });
  if (negotiated == kStandInTransferSyntax && !proposed.empty()) return proposed;
  return negotiated;
}

}  // namespace creni::ingest
