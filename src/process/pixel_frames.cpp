#include "creni/process/pixel_frames.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <string>

#include "creni/dicom/ybr_422.hpp"

namespace creni::process {

namespace {

// 32-bit samples are viewed as CV_32S whatever their sign (OpenCV has no unsigned 32-bit type): unsigned values
// at or above 2^31 (not seen in RT Dose or 32-bit secondary captures) would be drawn over as if negative.
int depth_of(const dicom::PixelModule& module) {
  if (module.format == dicom::SampleFormat::float32) return CV_32F;
  if (module.format == dicom::SampleFormat::float64) return CV_64F;
  if (module.bits_allocated == 8) return module.is_signed ? CV_8S : CV_8U;
  if (module.bits_allocated == 32) return CV_32S;
  return module.is_signed ? CV_16S : CV_16U;
}

// The native value's bytes: OW values through their 16-bit view (DCMTK keeps them in host byte order), OB bytes as
// they are.
std::uint8_t* native_bytes(DcmElement& element) {
  if (element.getVR() == EVR_OF) {
    Float32* floats = nullptr;
    return element.getFloat32Array(floats).good() ? reinterpret_cast<std::uint8_t*>(floats) : nullptr;
  }
  if (element.getVR() == EVR_OD) {
    Float64* doubles = nullptr;
    return element.getFloat64Array(doubles).good() ? reinterpret_cast<std::uint8_t*>(doubles) : nullptr;
  }
  if (element.getVR() == EVR_OW || element.getVR() == EVR_OL) {
    Uint16* words = nullptr;
    return element.getUint16Array(words).good() ? reinterpret_cast<std::uint8_t*>(words) : nullptr;
  }
  Uint8* bytes = nullptr;
  return element.getUint8Array(bytes).good() ? bytes : nullptr;
}

Result<std::uint8_t*> pixel_bytes(DcmDataset& dataset, const dicom::PixelModule& module) {
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(dicom::pixel_data_tag(module), element).bad() || element == nullptr) {
    return make_error("invalid_pixel_module", "no Pixel Data element");
  }
  std::uint8_t* bytes = native_bytes(*element);
  if (bytes == nullptr) return make_error("invalid_pixel_module", "no native pixel data");
  if (static_cast<std::uint64_t>(element->getLength()) < module.total_bytes) {
    return make_error("invalid_pixel_module", "Pixel Data shorter than the pixel module declares");
  }
  return bytes;
}

}  // namespace

Result<std::vector<Frame>> frames_of(DcmDataset& dataset, const dicom::PixelModule& module) {
  const bool float64 = module.format == dicom::SampleFormat::float64;
  if (module.bits_allocated != 8 && module.bits_allocated != 16 && module.bits_allocated != 32 && !float64) {
    return make_error("unsupported_pixel_format", "BitsAllocated " + std::to_string(module.bits_allocated) +
                                                      " (8, 16, 32 and Double Float 64 have frame views)");
  }
  auto found = pixel_bytes(dataset, module);
  if (!found) return found.error();
  std::uint8_t* bytes = found.value();

  const int rows = static_cast<int>(module.rows);
  const int columns = static_cast<int>(module.columns);
  const int samples = static_cast<int>(module.samples_per_pixel);
  const int depth = depth_of(module);
  const std::size_t plane_bytes = module.frame_bytes / module.samples_per_pixel;
  std::vector<Frame> frames;
  frames.reserve(module.number_of_frames);
  for (std::uint32_t index = 0; index < module.number_of_frames; ++index) {
    std::uint8_t* start = bytes + static_cast<std::size_t>(index) * module.frame_bytes;
    Frame frame;
    if (samples > 1 && module.planar_configuration == 1) {
      for (int sample = 0; sample < samples; ++sample) {
        frame.planes.emplace_back(rows, columns, CV_MAKETYPE(depth, 1), start + sample * plane_bytes);
      }
    } else {
      frame.planes.emplace_back(rows, columns, CV_MAKETYPE(depth, samples), start);
    }
    frames.push_back(std::move(frame));
  }
  return frames;
}

Result<std::vector<cv::Mat>> unpack_bit_frames(DcmDataset& dataset, const dicom::PixelModule& module) {
  if (module.bits_allocated != 1 || module.samples_per_pixel != 1) {
    return make_error("unsupported_pixel_format", "bit frames need BitsAllocated 1 and one sample");
  }
  auto found = pixel_bytes(dataset, module);
  if (!found) return found.error();
  const std::uint8_t* bytes = found.value();
  const std::uint64_t per_frame = static_cast<std::uint64_t>(module.rows) * module.columns;
  std::vector<cv::Mat> frames;
  for (std::uint32_t frame = 0; frame < module.number_of_frames; ++frame) {
    cv::Mat plane(static_cast<int>(module.rows), static_cast<int>(module.columns), CV_8U);
    std::uint64_t bit = frame * per_frame;
    for (int row = 0; row < plane.rows; ++row) {
      auto* out = plane.ptr<std::uint8_t>(row);
      for (int column = 0; column < plane.cols; ++column, ++bit) out[column] = (bytes[bit / 8] >> (bit % 8)) & 1U;
    }
    frames.push_back(plane);
  }
  return frames;
}

Status pack_bit_frames(DcmDataset& dataset, const dicom::PixelModule& module, const std::vector<cv::Mat>& frames) {
  auto found = pixel_bytes(dataset, module);
  if (!found) return found.error();
  std::uint8_t* bytes = found.value();
  const std::uint64_t per_frame = static_cast<std::uint64_t>(module.rows) * module.columns;
  for (std::size_t frame = 0; frame < frames.size() && frame < module.number_of_frames; ++frame) {
    std::uint64_t bit = frame * per_frame;
    for (int row = 0; row < frames[frame].rows; ++row) {
      const auto* in = frames[frame].ptr<std::uint8_t>(row);
      for (int column = 0; column < frames[frame].cols; ++column, ++bit) {
        const auto mask = static_cast<std::uint8_t>(1U << (bit % 8));
        bytes[bit / 8] = in[column] != 0 ? (bytes[bit / 8] | mask) : (bytes[bit / 8] & ~mask);
      }
    }
  }
  return {};
}

Result<std::optional<dicom::PixelModule>> prepare_pixels(dicom::Instance& instance,
                                                         const config::ProcessingConfig& processing, bool check_length,
                                                         std::optional<config::NonImagePolicy> non_image) {
  DcmDataset& dataset = instance.dataset();
  auto module = dicom::read_pixel_module(dataset, processing.max_image_bytes);
  if (!module) {
    if (module.error().code != "not_an_image") return module.error();
    switch (non_image.value_or(processing.non_image)) {
      case config::NonImagePolicy::pass:
        return std::optional<dicom::PixelModule>();
      case config::NonImagePolicy::ignore:
        return make_error("ignored", "object without pixel data (SOP class " + instance.identity().sop_class_uid +
                                         ") ignored by processing.non_image");
      case config::NonImagePolicy::reject:
        break;
    }
    return module.error();
  }
  // Without a pixel step the pixel data is still written uncompressed: results never carry a compressed syntax.
  if (Status decoded = instance.decode_pixels(processing.max_image_bytes); !decoded) return decoded.error();
  if (Status expanded = dicom::expand_ybr_full_422(dataset, processing.max_image_bytes); !expanded) {
    return expanded.error();
  }
  auto decoded_module = dicom::read_pixel_module(dataset, processing.max_image_bytes);
  if (!decoded_module) return decoded_module.error();
  if (Status trimmed = dicom::trim_native_pixel_padding(dataset, decoded_module.value()); !trimmed) return trimmed.error();
  if (check_length) {
    if (Status length = dicom::check_native_pixel_length(dataset, decoded_module.value()); !length) return length.error();
  }
  return std::optional<dicom::PixelModule>(decoded_module.value());
}

}  // namespace creni::process
