#include "raw_store_scu.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "creni/dicom/part10_meta.hpp"
#include "creni/ingest/unknown_syntax_contexts.hpp"

namespace creni::testing {

namespace {

// The command set (PS3.7 section 9.3.1.1) in implicit VR little endian with its group length.
std::string command_bytes(const std::string& sop_class, const std::string& sop_instance, std::uint16_t message_id) {
  DcmDataset command;
  command.putAndInsertString(DCM_AffectedSOPClassUID, sop_class.c_str());
  command.putAndInsertUint16(DCM_CommandField, DIMSE_C_STORE_RQ);
  command.putAndInsertUint16(DCM_MessageID, message_id);
  command.putAndInsertUint16(DCM_Priority, DIMSE_PRIORITY_MEDIUM);
  command.putAndInsertUint16(DCM_CommandDataSetType, 0x0000);
  command.putAndInsertString(DCM_AffectedSOPInstanceUID, sop_instance.c_str());
  command.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, EXS_LittleEndianImplicit, EET_ExplicitLength);
  std::string bytes(command.calcElementLength(EXS_LittleEndianImplicit, EET_ExplicitLength) + 64, '\0');
  DcmOutputBufferStream out(bytes.data(), bytes.size());
  command.transferInit();
  (void)command.write(out, EXS_LittleEndianImplicit, EET_ExplicitLength, nullptr, EGL_withGL);
  command.transferEnd();
  void* written = nullptr;
  offile_off_t length = 0;
  out.flushBuffer(written, length);
  bytes.resize(static_cast<std::size_t>(length));
  return bytes;
}

bool send_pdvs(T_ASC_Association* association, T_ASC_PresentationContextID id, DUL_DATAPDV type,
               const std::string& bytes) {
  const std::size_t chunk = association->sendPDVLength;
  for (std::size_t offset = 0; offset < bytes.size(); offset += chunk) {
    const std::size_t length = std::min(chunk, bytes.size() - offset);
    DUL_PDV pdv{length, id, type, offset + length == bytes.size(), const_cast<char*>(bytes.data() + offset)};
    DUL_PDVLIST list{};
    list.count = 1;
    list.pdv = &pdv;
    if (DUL_WritePDVs(&association->DULassociation, &list).bad()) return false;
  }
  return true;
}

}  // namespace

std::string dataset_of(const std::filesystem::path& file) {
  const auto meta = dicom::read_meta_identity(file);
  if (!meta) return {};
  std::ifstream in(file, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return bytes.substr(std::min<std::size_t>(bytes.size(), meta->dataset_offset));
}

Result<std::unique_ptr<RawStoreAssociation>> RawStoreAssociation::open(std::uint16_t port, const std::string& calling_ae,
                                                                       const std::string& called_ae,
                                                                       const std::vector<RawContext>& contexts) {
  std::unique_ptr<RawStoreAssociation> opened(new RawStoreAssociation());
  const OFCondition network = ASC_initializeNetwork(NET_REQUESTOR, 0, 10, &opened->network_);
  if (network.bad()) return make_error("no_association", network.text());
  T_ASC_Parameters* params = nullptr;
  ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
  ASC_setAPTitles(params, calling_ae.c_str(), called_ae.c_str(), nullptr);
  ASC_setPresentationAddresses(params, "localhost", ("127.0.0.1:" + std::to_string(port)).c_str());
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    std::vector<const char*> syntaxes;
    for (const auto& syntax : contexts[i].transfer_syntaxes) syntaxes.push_back(syntax.c_str());
    ASC_addPresentationContext(params, static_cast<T_ASC_PresentationContextID>(2 * i + 1),
                               contexts[i].sop_class.c_str(), syntaxes.data(), static_cast<int>(syntaxes.size()));
  }
  const OFCondition requested = ASC_requestAssociation(opened->network_, params, &opened->association_);
  if (opened->association_ == nullptr) {
    ASC_destroyAssociationParameters(&params);
  } else if (requested.bad()) {
    ASC_destroyAssociation(&opened->association_);  // frees params too; nothing to release
  }
  if (requested.bad()) return make_error("no_association", requested.text());
  // What the SCP accepted, before the stand-in replaces unknown syntaxes in our copy.
  for (std::size_t i = 0; i < contexts.size(); ++i) {
    T_ASC_PresentationContext context{};
    const auto id = static_cast<T_ASC_PresentationContextID>(2 * i + 1);
    const bool accepted = ASC_findAcceptedPresentationContext(opened->association_->params, id, &context).good();
    opened->accepted_.emplace_back(accepted ? context.acceptedTransferSyntax : "");
  }
  (void)ingest::stand_in_for_unknown_syntaxes(opened->association_);
  return opened;
}

RawStoreAssociation::~RawStoreAssociation() {
  if (association_ != nullptr) {
    (void)ASC_releaseAssociation(association_);
    ASC_destroyAssociation(&association_);
  }
  if (network_ != nullptr) ASC_dropNetwork(&network_);
}

std::string RawStoreAssociation::accepted_syntax(std::size_t index) const {
  return index < accepted_.size() ? accepted_[index] : std::string();
}

int RawStoreAssociation::store(const std::string& sop_class, const std::string& sop_instance,
                               const std::string& dataset) {
  const T_ASC_PresentationContextID id = ASC_findAcceptedPresentationContextID(association_, sop_class.c_str());
  if (id == 0) return -1;
  const std::string command = command_bytes(sop_class, sop_instance, association_->nextMsgID++);
  if (!send_pdvs(association_, id, DUL_COMMANDPDV, command) || !send_pdvs(association_, id, DUL_DATASETPDV, dataset)) {
    return -1;
  }
  T_ASC_PresentationContextID answered_on = 0;
  T_DIMSE_Message response{};
  DcmDataset* detail = nullptr;
  const OFCondition got = DIMSE_receiveCommand(association_, DIMSE_BLOCKING, 0, &answered_on, &response, &detail);
  delete detail;
  if (got.bad() || response.CommandField != DIMSE_C_STORE_RSP) return -1;
  return response.msg.CStoreRSP.DimseStatus;
}

RawStoreResult store_raw(std::uint16_t port, const std::string& calling_ae, const std::string& called_ae,
                         const std::string& sop_class, const std::string& sop_instance,
                         const std::vector<std::string>& proposed, const std::filesystem::path& file) {
  RawStoreResult result;
  RawContext context;
  context.sop_class = sop_class;
  context.transfer_syntaxes = proposed;
  auto association = RawStoreAssociation::open(port, calling_ae, called_ae, {context});
  if (!association) return result;
  result.accepted_syntax = (*association)->accepted_syntax(0);
  if (!result.accepted_syntax.empty()) result.status = (*association)->store(sop_class, sop_instance, dataset_of(file));
  return result;
}

}  // namespace creni::testing
