#include "creni/dicom/ybr_422.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <string>
#include <vector>

#include "creni/dicom/pixel_module.hpp"

namespace creni::dicom {

namespace {

Error invalid(const std::string& why) { return make_error("invalid_pixel_module", "YBR_FULL_422: " + why); }

template <typename Sample>
std::vector<Sample> expanded(const Sample* in, const PixelModule& module) {
  const std::size_t pairs = static_cast<std::size_t>(module.rows) * module.columns / 2 * module.number_of_frames;
  std::vector<Sample> out(pairs * 6);
  for (std::size_t pair = 0; pair < pairs; ++pair) {
    const Sample* group = in + 4 * pair;  // Y1 Y2 Cb Cr
    Sample* pixels = out.data() + 6 * pair;
    pixels[0] = group[0];
    pixels[1] = group[2];
    pixels[2] = group[3];
    pixels[3] = group[1];
    pixels[4] = group[2];
    pixels[5] = group[3];
  }
  return out;
}

}  // namespace

Status expand_ybr_full_422(DcmDataset& dataset, std::uint64_t max_image_bytes) {
  OFString photometric;
  if (dataset.findAndGetOFString(DCM_PhotometricInterpretation, photometric).bad() || photometric != "YBR_FULL_422") {
    return {};
  }
  auto module = read_pixel_module(dataset, max_image_bytes);  // sized as three samples per pixel: the result
  if (!module) return module.error();
  if (module->bits_allocated != 8 && module->bits_allocated != 16) return invalid("BitsAllocated 8 or 16 expected");
  if (module->columns % 2 != 0) return invalid("odd Columns");
  if (module->planar_configuration != 0) return invalid("PlanarConfiguration 1");
  DcmElement* pixels = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr) return invalid("no Pixel Data");
  const std::uint64_t subsampled = module->total_bytes / 3 * 2;
  if (pixels->getLength() < subsampled) {
    return invalid("Pixel Data holds " + std::to_string(pixels->getLength()) + " bytes, 4:2:2 needs " +
                   std::to_string(subsampled));
  }
  OFCondition put = EC_Normal;
  if (module->bits_allocated == 8) {
    Uint8* bytes = nullptr;
    if (pixels->getUint8Array(bytes).bad() || bytes == nullptr) return invalid("unreadable Pixel Data");
    const std::vector<Uint8> full = expanded(bytes, module.value());
    put = pixels->putUint8Array(full.data(), static_cast<unsigned long>(full.size()));
  } else {
    Uint16* words = nullptr;
    if (pixels->getUint16Array(words).bad() || words == nullptr) return invalid("unreadable Pixel Data");
    const std::vector<Uint16> full = expanded(words, module.value());
    put = pixels->putUint16Array(full.data(), static_cast<unsigned long>(full.size()));
  }
  if (put.bad() || dataset.putAndInsertString(DCM_PhotometricInterpretation, "YBR_FULL").bad()) {
    return invalid("cannot write the expanded pixel data");
  }
  return {};
}

}  // namespace creni::dicom
