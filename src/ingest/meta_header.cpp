#include "meta_header.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcuid.h>

#include "creni/ingest/unknown_syntax_contexts.hpp"

namespace creni::ingest {

namespace {

// Adds `value` as element `tag`; false when DCMTK refuses it.
bool put(DcmMetaInfo& meta, const DcmTagKey& tag, const char* value) {
  return meta.putAndInsertString(tag, value != nullptr ? value : "").good();
}

}  // namespace

Result<std::string> meta_header_for(const T_DIMSE_C_StoreRQ& request, T_ASC_Association* association,
                                    T_ASC_PresentationContextID context_id) {
  const std::string syntax = negotiated_transfer_syntax(association, context_id);
  if (syntax.empty()) return make_error("dcmtk_error", "presentation context " + std::to_string(context_id) + " not accepted");
  DcmMetaInfo meta;
  // (0002,0000) first, its value computed below; the version is 00 01 (PS3.10 section 7.1).
  const Uint8 version[2] = {0, 1};
  const bool filled = meta.putAndInsertUint32(DCM_FileMetaInformationGroupLength, 0).good() &&
                      meta.putAndInsertUint8Array(DCM_FileMetaInformationVersion, version, 2).good() &&
                      put(meta, DCM_MediaStorageSOPClassUID, request.AffectedSOPClassUID) &&
                      put(meta, DCM_MediaStorageSOPInstanceUID, request.AffectedSOPInstanceUID) &&
                      put(meta, DCM_TransferSyntaxUID, syntax.c_str()) &&
                      put(meta, DCM_ImplementationClassUID, OFFIS_IMPLEMENTATION_CLASS_UID) &&
                      put(meta, DCM_ImplementationVersionName, OFFIS_DTK_IMPLEMENTATION_VERSION_NAME2) &&
                      put(meta, DCM_SourceApplicationEntityTitle, association->params->DULparams.callingAPTitle);
  if (!filled) return make_error("dcmtk_error", "cannot fill the meta header");
  if (meta.computeGroupLengthAndPadding(EGL_withGL, EPD_noChange, META_HEADER_DEFAULT_TRANSFERSYNTAX,
                                        EET_UndefinedLength)
          .bad()) {
    return make_error("dcmtk_error", "cannot compute the meta header's group length");
  }
  // Preamble, "DICM" and the group: a few hundred bytes, well inside this buffer.
  std::string bytes(128 + 4 + meta.calcElementLength(META_HEADER_DEFAULT_TRANSFERSYNTAX, EET_ExplicitLength) + 256,
                    '\0');
  DcmOutputBufferStream out(bytes.data(), static_cast<offile_off_t>(bytes.size()));
  meta.transferInit();
  const OFCondition written = meta.write(out, META_HEADER_DEFAULT_TRANSFERSYNTAX, EET_ExplicitLength, nullptr);
  meta.transferEnd();
  if (written.bad()) return make_error("dcmtk_error", std::string("cannot encode the meta header: ") + written.text());
  void* start = nullptr;
  offile_off_t length = 0;
  out.flushBuffer(start, length);
  bytes.resize(static_cast<std::size_t>(length));
  return bytes;
}

}  // namespace creni::ingest
