#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctagkey.h>

#include <cstdint>
#include <string>

#include "creni/common/result.hpp"

class DcmDataset;

namespace creni::dicom {

/// How samples are stored: integers in Pixel Data (7FE0,0010), or IEEE floats in Float Pixel Data (7FE0,0008, OF,
/// 32 bits) or Double Float Pixel Data (7FE0,0009, OD, 64 bits) of the Floating Point Image Pixel Module (PS3.3
/// section C.7.6.24), as Parametric Maps carry them.
enum class SampleFormat { integer, float32, float64 };

/// The Image Pixel module attributes (PS3.3 section C.7.6.3) that describe how Pixel Data is laid out, read and
/// checked against each other before anything is decoded.
struct PixelModule {
  std::uint32_t rows = 0;
  std::uint32_t columns = 0;
  std::uint32_t samples_per_pixel = 1;
  std::uint32_t bits_allocated = 0;
  std::uint32_t bits_stored = 0;
  std::uint32_t high_bit = 0;
  bool is_signed = false;                 ///< PixelRepresentation 1
  std::uint32_t planar_configuration = 0; ///< 0 = interleaved (R1G1B1...), 1 = planes (RRR...GGG...BBB)
  std::uint32_t number_of_frames = 1;
  std::string photometric;                ///< PhotometricInterpretation, trimmed
  SampleFormat format = SampleFormat::integer;  ///< float: BitsStored = BitsAllocated (32/64), signed, one sample

  std::uint64_t frame_bytes = 0;          ///< rows * columns * samples * bits_allocated / 8
  std::uint64_t total_bytes = 0;          ///< frame_bytes * number_of_frames
};

/// The element that holds the samples: Pixel Data, Float Pixel Data or Double Float Pixel Data.
[[nodiscard]] DcmTagKey pixel_data_tag(const PixelModule& module);

/// Reads the pixel module and checks it before decoding, with overflow-checked arithmetic. Errors (Error::code):
///  - "not_an_image": no Pixel Data element (nor Float/Double Float Pixel Data) and no Rows (SR, KO, RT Plan...);
///  - "missing_pixel_data": Rows/Columns present but no Pixel Data (for example a file cut before Pixel Data);
///  - "invalid_pixel_module": a zero or missing dimension, BitsStored > BitsAllocated, HighBit >= BitsAllocated,
///    SamplesPerPixel other than 1 or 3, NumberOfFrames 0 or unparsable; float pixel data with BitsAllocated other
///    than 32 (Float) or 64 (Double Float), or with more than one sample;
///  - "image_too_large": total_bytes above `max_image_bytes` (or not representable in 64 bits).
[[nodiscard]] Result<PixelModule> read_pixel_module(DcmDataset& dataset, std::uint64_t max_image_bytes);

/// After decoding: checks that native Pixel Data holds at least total_bytes (longer values are trimmed by
/// trim_native_pixel_padding first). Error "invalid_pixel_module" naming both lengths.
/// Native Pixel Data longer than the pixel module declares (trailing padding some writers add; PS3.5 section 8.1.1
/// only asks for at least the declared length) is cut to the declared length, rounded up to even. Shorter data is
/// left alone (check_native_pixel_length refuses it). Error "invalid_pixel_module" (the value cannot be read).
[[nodiscard]] Status trim_native_pixel_padding(DcmDataset& dataset, const PixelModule& module);

[[nodiscard]] Status check_native_pixel_length(DcmDataset& dataset, const PixelModule& module);

}  // namespace creni::dicom
