#include "creni/dicom/pixel_module.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>

#include <vector>

namespace creni::dicom {

namespace {

Error invalid(const std::string& why) { return make_error("invalid_pixel_module", why); }

bool read_us(DcmDataset& dataset, const DcmTagKey& tag, std::uint32_t& out) {
  Uint16 value = 0;
  if (dataset.findAndGetUint16(tag, value).bad()) return false;
  out = value;
  return true;
}

bool multiply(std::uint64_t a, std::uint64_t b, std::uint64_t& out) { return !__builtin_mul_overflow(a, b, &out); }

Result<PixelModule> finish_module(DcmDataset& dataset, PixelModule m, std::uint64_t max_image_bytes);

}  // namespace

DcmTagKey pixel_data_tag(const PixelModule& module) {
  switch (module.format) {
    case SampleFormat::float32:
      return DCM_FloatPixelData;
    case SampleFormat::float64:
      return DCM_DoubleFloatPixelData;
    case SampleFormat::integer:
      break;
  }
  return DCM_PixelData;
}

Result<PixelModule> read_pixel_module(DcmDataset& dataset, std::uint64_t max_image_bytes) {
  PixelModule m;
  if (!dataset.tagExists(DCM_PixelData)) {
    if (dataset.tagExists(DCM_FloatPixelData)) m.format = SampleFormat::float32;
    if (dataset.tagExists(DCM_DoubleFloatPixelData)) m.format = SampleFormat::float64;
  }
  const bool has_pixels = dataset.tagExists(DCM_PixelData) || m.format != SampleFormat::integer;
  const bool has_rows = dataset.tagExists(DCM_Rows);
  if (!has_pixels && !has_rows) return make_error("not_an_image", "no Pixel Data (7FE0,0010) and no Rows");
  if (!has_pixels) return make_error("missing_pixel_data", "Rows is present but Pixel Data (7FE0,0010) is missing");

  if (!read_us(dataset, DCM_Rows, m.rows) || m.rows == 0) return invalid("Rows missing or 0");
  if (!read_us(dataset, DCM_Columns, m.columns) || m.columns == 0) return invalid("Columns missing or 0");
  if (!read_us(dataset, DCM_BitsAllocated, m.bits_allocated) || m.bits_allocated == 0) {
    return invalid("BitsAllocated missing or 0");
  }
  if (m.format != SampleFormat::integer) {
    // PS3.3 section C.7.6.24: no BitsStored, HighBit nor PixelRepresentation; every bit is the IEEE value.
    const std::uint32_t expected = m.format == SampleFormat::float32 ? 32 : 64;
    if (m.bits_allocated != expected) {
      return invalid("BitsAllocated " + std::to_string(m.bits_allocated) + " with " +
                     (expected == 32 ? "Float" : "Double Float") + " Pixel Data (" + std::to_string(expected) +
                     " expected)");
    }
    m.bits_stored = m.bits_allocated;
    m.high_bit = m.bits_allocated - 1;
    m.is_signed = true;
    if (read_us(dataset, DCM_SamplesPerPixel, m.samples_per_pixel) && m.samples_per_pixel != 1) {
      return invalid("float pixel data with SamplesPerPixel " + std::to_string(m.samples_per_pixel));
    }
    m.samples_per_pixel = 1;
    return finish_module(dataset, m, max_image_bytes);
  }
  if (!read_us(dataset, DCM_BitsStored, m.bits_stored) || m.bits_stored == 0) return invalid("BitsStored missing or 0");
  if (m.bits_stored > m.bits_allocated) {
    return invalid("BitsStored " + std::to_string(m.bits_stored) + " > BitsAllocated " + std::to_string(m.bits_allocated));
  }
  if (!read_us(dataset, DCM_HighBit, m.high_bit)) m.high_bit = m.bits_stored - 1;
  if (m.high_bit >= m.bits_allocated || m.high_bit + 1 < m.bits_stored) {
    return invalid("HighBit " + std::to_string(m.high_bit) + " inconsistent with BitsStored " +
                   std::to_string(m.bits_stored) + " / BitsAllocated " + std::to_string(m.bits_allocated));
  }
  if (!read_us(dataset, DCM_SamplesPerPixel, m.samples_per_pixel)) m.samples_per_pixel = 1;
  if (m.samples_per_pixel != 1 && m.samples_per_pixel != 3) {
    return invalid("SamplesPerPixel " + std::to_string(m.samples_per_pixel) + " (1 or 3 expected)");
  }
  std::uint32_t representation = 0;
  read_us(dataset, DCM_PixelRepresentation, representation);
  m.is_signed = representation == 1;
  if (m.samples_per_pixel == 3) read_us(dataset, DCM_PlanarConfiguration, m.planar_configuration);
  return finish_module(dataset, m, max_image_bytes);
}

namespace {

// Photometric, frames and the size checks shared by integer and float pixel data.
Result<PixelModule> finish_module(DcmDataset& dataset, PixelModule m, std::uint64_t max_image_bytes) {
  OFString photometric;
  dataset.findAndGetOFString(DCM_PhotometricInterpretation, photometric);
  m.photometric = photometric.c_str();
  while (!m.photometric.empty() && m.photometric.back() == ' ') m.photometric.pop_back();

  if (dataset.tagExists(DCM_NumberOfFrames)) {
    Sint32 frames = 0;
    if (dataset.findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames <= 0) {
      return invalid("NumberOfFrames missing, unparsable or not positive");
    }
    m.number_of_frames = static_cast<std::uint32_t>(frames);
  }

  if (m.bits_allocated != 1 && m.bits_allocated % 8 != 0) {
    return invalid("BitsAllocated " + std::to_string(m.bits_allocated) + " (1 or a multiple of 8 expected)");
  }
  std::uint64_t pixels = 0;
  std::uint64_t bits = 0;
  std::uint64_t all_bits = 0;
  if (!multiply(m.rows, m.columns, pixels) || !multiply(pixels, m.samples_per_pixel, pixels) ||
      !multiply(pixels, m.bits_allocated, bits) || !multiply(bits, m.number_of_frames, all_bits)) {
    return make_error("image_too_large", "declared pixel data size overflows 64 bits");
  }
  // Single-bit frames are packed one after the other without padding between them (PS3.5 section 8.1.1).
  m.frame_bytes = (bits + 7) / 8;
  m.total_bytes = all_bits / 8 + (all_bits % 8 != 0 ? 1 : 0);
  if (m.total_bytes > max_image_bytes) {
    return make_error("image_too_large", "declared pixel data of " + std::to_string(m.total_bytes) +
                                             " bytes exceeds the cap of " + std::to_string(max_image_bytes));
  }
  return m;
}

}  // namespace

Status trim_native_pixel_padding(DcmDataset& dataset, const PixelModule& module) {
  DcmElement* pixels = nullptr;
  if (dataset.findAndGetElement(pixel_data_tag(module), pixels).bad() || pixels == nullptr) return {};
  const std::uint64_t wanted = module.total_bytes + (module.total_bytes % 2);  // values have even lengths
  if (pixels->getLength() <= wanted) return {};
  // Copied out first: DCMTK frees the old value before it copies the new one.
  OFCondition put = EC_Normal;
  if (pixels->getVR() == EVR_OF) {
    Float32* floats = nullptr;
    if (pixels->getFloat32Array(floats).bad() || floats == nullptr) return invalid("unreadable Float Pixel Data");
    const std::vector<Float32> kept(floats, floats + wanted / 4);
    put = pixels->putFloat32Array(kept.data(), static_cast<unsigned long>(kept.size()));
  } else if (pixels->getVR() == EVR_OD) {
    Float64* doubles = nullptr;
    if (pixels->getFloat64Array(doubles).bad() || doubles == nullptr) return invalid("unreadable Double Float Pixel Data");
    const std::vector<Float64> kept(doubles, doubles + wanted / 8);
    put = pixels->putFloat64Array(kept.data(), static_cast<unsigned long>(kept.size()));
  } else if (pixels->getVR() == EVR_OW) {
    Uint16* words = nullptr;
    if (pixels->getUint16Array(words).bad() || words == nullptr) return invalid("unreadable native Pixel Data");
    const std::vector<Uint16> kept(words, words + wanted / 2);
    put = pixels->putUint16Array(kept.data(), static_cast<unsigned long>(kept.size()));
  } else {
    Uint8* bytes = nullptr;
    if (pixels->getUint8Array(bytes).bad() || bytes == nullptr) return invalid("unreadable native Pixel Data");
    const std::vector<Uint8> kept(bytes, bytes + wanted);
    put = pixels->putUint8Array(kept.data(), static_cast<unsigned long>(kept.size()));
  }
  if (put.bad()) return invalid(std::string("cannot trim Pixel Data: ") + put.text());
  return {};
}

Status check_native_pixel_length(DcmDataset& dataset, const PixelModule& module) {
  DcmElement* pixels = nullptr;
  if (dataset.findAndGetElement(pixel_data_tag(module), pixels).bad() || pixels == nullptr) {
    return make_error("missing_pixel_data", "Pixel Data (7FE0,0010) is missing");
  }
  const std::uint64_t actual = pixels->getLength();
  if (actual < module.total_bytes) {
    return invalid("Pixel Data holds " + std::to_string(actual) + " bytes, the pixel module declares " +
                   std::to_string(module.total_bytes));
  }
  return {};
}

}  // namespace creni::dicom
