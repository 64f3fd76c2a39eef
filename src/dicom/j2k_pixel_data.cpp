#include "j2k_pixel_data.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include <cstring>
#include <memory>
#include <string>

#include "creni/dicom/encapsulated_frames.hpp"
#include "creni/dicom/j2k_codestream.hpp"

namespace creni::dicom {

namespace {

// The stored value of a decoded sample as the pixel module defines it: its low BitsStored bits, sign-extended when
// PixelRepresentation is 1 (PS3.5 section 8.1.1; PS3.5 section 8.2.4 leaves sign to the pixel module).
std::int64_t stored_value(std::int32_t sample, const PixelModule& module) {
  const std::uint32_t bits = module.bits_stored >= 32 ? 32 : module.bits_stored;
  const std::uint64_t mask = bits >= 32 ? 0xFFFFFFFFULL : ((1ULL << bits) - 1);
  const std::uint64_t pattern = static_cast<std::uint64_t>(static_cast<std::uint32_t>(sample)) & mask;
  if (module.is_signed && (pattern >> (bits - 1)) != 0) return static_cast<std::int64_t>(pattern) - (1LL << bits);
  return static_cast<std::int64_t>(pattern);
}

void write_frame(const J2kFrame& frame, const PixelModule& module, std::uint8_t* out) {
  const std::size_t count = frame.samples.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::int64_t value = stored_value(frame.samples[i], module);
    switch (module.bits_allocated) {
      case 8:
        out[i] = static_cast<std::uint8_t>(value);
        break;
      case 16: {
        const auto word = static_cast<std::uint16_t>(value);
        std::memcpy(out + 2 * i, &word, 2);  // DCMTK keeps native OW in host byte order
        break;
      }
      default: {
        const auto word = static_cast<std::uint32_t>(value);
        std::memcpy(out + 4 * i, &word, 4);
        break;
      }
    }
  }
}

Status put(DcmDataset& dataset, const DcmTagKey& tag, const char* value) {
  if (dataset.putAndInsertString(tag, value).bad()) return make_error("decode_failed", "cannot update the pixel module");
  return {};
}

}  // namespace

Status decode_j2k_pixel_data(DcmDataset& dataset, const PixelModule& module) {
  if (module.bits_allocated != 8 && module.bits_allocated != 16 && module.bits_allocated != 32) {
    return make_error("unsupported_pixel_format",
                      "JPEG 2000 with BitsAllocated " + std::to_string(module.bits_allocated) + " (8, 16, 32 supported)");
  }
  auto frames = encapsulated_frames(dataset, module.number_of_frames, starts_j2k_frame);
  if (!frames) return frames.error();

  // A whole number of 16-bit words: OW is the VR of native data above 8 bits (PS3.5 section A.2).
  const std::uint64_t padded = module.total_bytes + (module.total_bytes % 2);
  if (padded > 0xFFFFFFFEULL) return make_error("image_too_large", "decoded pixel data above 4 GiB");
  auto pixel_data = std::make_unique<DcmPixelData>(DCM_PixelData);
  std::uint8_t* out = nullptr;
  if (module.bits_allocated == 8) {
    Uint8* bytes = nullptr;
    if (pixel_data->createUint8Array(static_cast<Uint32>(padded), bytes).bad() || bytes == nullptr) {
      return make_error("decode_failed", "cannot allocate the decoded pixel data");
    }
    out = bytes;
  } else {
    Uint16* words = nullptr;
    if (pixel_data->createUint16Array(static_cast<Uint32>(padded / 2), words).bad() || words == nullptr) {
      return make_error("decode_failed", "cannot allocate the decoded pixel data");
    }
    out = reinterpret_cast<std::uint8_t*>(words);
  }
  if (padded != module.total_bytes) out[module.total_bytes] = 0;

  const J2kExpectation expected{module.rows, module.columns, module.samples_per_pixel, module.bits_allocated};
  bool transformed = false;
  for (std::size_t index = 0; index < frames->size(); ++index) {
    const auto& bytes = frames.value()[index];
    auto frame = decode_j2k_frame(bytes.data(), bytes.size(), expected);
    if (!frame) {
      Error error = frame.error();
      error.message = "frame " + std::to_string(index + 1) + " of " + std::to_string(frames->size()) + ": " + error.message;
      return error;
    }
    transformed = transformed || frame->multi_component_transform;
    write_frame(frame.value(), module, out + index * module.frame_bytes);
  }

  if (dataset.insert(pixel_data.release(), OFTrue).bad()) return make_error("decode_failed", "cannot replace Pixel Data");
  // The offset tables describe the encapsulated fragments that no longer exist.
  (void)dataset.findAndDeleteElement(DCM_ExtendedOffsetTable);
  (void)dataset.findAndDeleteElement(DCM_ExtendedOffsetTableLengths);
  if (module.samples_per_pixel == 3) {
    // PS3.5 section 8.2.4: YBR_RCT/YBR_ICT name the codestream's colour transform; its decoded samples are RGB.
    if (module.photometric == "YBR_RCT" || module.photometric == "YBR_ICT") {
      if (Status s = put(dataset, DCM_PhotometricInterpretation, transformed ? "RGB" : "YBR_FULL"); !s) return s;
    }
    if (Status s = put(dataset, DCM_PlanarConfiguration, "0"); !s) return s;
  }
  return {};
}

}  // namespace creni::dicom
