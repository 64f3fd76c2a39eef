#include "creni/dicom/canonical_identity.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <memory>
#include <vector>

#include "creni/common/content_hash.hpp"

namespace creni::dicom {

Result<std::string> canonical_content_hash(const std::filesystem::path& file) {
  DcmFileFormat format;
  if (const OFCondition loaded = format.loadFile(file.c_str()); loaded.bad()) {
    return make_error("not_dicom", "cannot parse " + file.string() + ": " + loaded.text());
  }
  DcmDataset& dataset = *format.getDataset();
  // Encapsulated pixel data is compared decoded: the same pixels JPEG-lossless or RLE are the same instance.
  if (const OFCondition decoded = dataset.chooseRepresentation(EXS_LittleEndianExplicit, nullptr); decoded.bad()) {
    return make_error("cannot_decode", "cannot decode the pixel data: " + std::string(decoded.text()));
  }
  delete dataset.remove(DCM_DataSetTrailingPadding);

  Sha256 digest;
  std::vector<char> buffer(1 << 20);
  DcmOutputBufferStream out(buffer.data(), buffer.size());
  dataset.transferInit();
  OFCondition written;
  do {
    written = dataset.write(out, EXS_LittleEndianImplicit, EET_ExplicitLength, nullptr, EGL_withoutGL,
                            EPD_withoutPadding);
    void* data = nullptr;
    offile_off_t length = 0;
    out.flushBuffer(data, length);
    digest.update(data, static_cast<std::size_t>(length));
  } while (written == EC_StreamNotifyClient);
  dataset.transferEnd();
  if (written.bad()) return make_error("not_dicom", "cannot encode the data set: " + std::string(written.text()));

  return digest.hex_digest();
}

}  // namespace creni::dicom
