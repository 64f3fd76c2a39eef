#include "creni/process/pixel_frames.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcelem.h>

#include <string>

namespace creni::process {

namespace {

int depth_of(const dicom::PixelModule& module) {
  if (module.bits_allocated == 8) return module.is_signed ? CV_8S : CV_8U;
  return module.is_signed ? CV_16S : CV_16U;
}

}  // namespace

Result<std::vector<Frame>> frames_of(DcmDataset& dataset, const dicom::PixelModule& module) {
  if (module.bits_allocated != 8 && module.bits_allocated != 16) {
    return make_error("unsupported_pixel_format",
                      "BitsAllocated " + std::to_string(module.bits_allocated) + " (8 and 16 are supported)");
  }
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    return make_error("invalid_pixel_module", "no Pixel Data element");
  }
  // DCMTK keeps native OW data in the host's byte order, so a 16-bit view can be used as is.
  std::uint8_t* bytes = nullptr;
  if (module.bits_allocated == 8) {
    Uint8* data = nullptr;
    if (element->getUint8Array(data).bad() || data == nullptr) return make_error("invalid_pixel_module", "no native pixel data");
    bytes = data;
  } else {
    Uint16* data = nullptr;
    if (element->getUint16Array(data).bad() || data == nullptr) return make_error("invalid_pixel_module", "no native pixel data");
    bytes = reinterpret_cast<std::uint8_t*>(data);
  }
  if (static_cast<std::uint64_t>(element->getLength()) < module.total_bytes) {
    return make_error("invalid_pixel_module", "Pixel Data shorter than the pixel module declares");
  }

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

Result<std::optional<dicom::PixelModule>> prepare_pixels(dicom::Instance& instance,
                                                         const config::ProcessingConfig& processing, bool check_length) {
  DcmDataset& dataset = instance.dataset();
  auto module = dicom::read_pixel_module(dataset, processing.max_image_bytes);
  if (!module) {
    const bool passable = module.error().code == "not_an_image" && processing.non_image == config::NonImagePolicy::pass;
    if (!passable) return module.error();
    return std::optional<dicom::PixelModule>();
  }
  // Without a pixel step the pixel data is still written uncompressed: results never carry a compressed syntax.
  if (Status decoded = instance.decode_pixels(processing.max_image_bytes); !decoded) return decoded.error();
  auto decoded_module = dicom::read_pixel_module(dataset, processing.max_image_bytes);
  if (!decoded_module) return decoded_module.error();
  if (Status trimmed = dicom::trim_native_pixel_padding(dataset, decoded_module.value()); !trimmed) return trimmed.error();
  if (check_length) {
    if (Status length = dicom::check_native_pixel_length(dataset, decoded_module.value()); !length) return length.error();
  }
  return std::optional<dicom::PixelModule>(decoded_module.value());
}

}  // namespace creni::process
