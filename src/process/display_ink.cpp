#include "creni/process/display_ink.hpp"

#include <limits>

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>

#include <algorithm>
#include <cmath>

namespace creni::process {

namespace {

double first_decimal(DcmDataset& dataset, const DcmTagKey& tag, double fallback) {
  Float64 value = 0;
  return dataset.findAndGetFloat64(tag, value, 0).good() && std::isfinite(value) ? value : fallback;
}

// The stored values that every window of the image shows as black (low) and as white (high), or nothing when the
// image has no usable window (PS3.3 section C.11.2.1.2: a width below 1 is not allowed; rescale maps stored values
// to modality values). Drawing at the extremes over all windows keeps the text visible whichever one a viewer picks.
std::optional<std::pair<double, double>> stored_window(DcmDataset& dataset, double stored_min, double stored_max) {
  double slope = first_decimal(dataset, DCM_RescaleSlope, 1.0);
  if (slope == 0) slope = 1.0;
  const double intercept = first_decimal(dataset, DCM_RescaleIntercept, 0.0);
  std::optional<std::pair<double, double>> extremes;
  for (unsigned long index = 0;; ++index) {
    Float64 center = 0;
    Float64 width = 0;
    if (dataset.findAndGetFloat64(DCM_WindowCenter, center, index).bad() ||
        dataset.findAndGetFloat64(DCM_WindowWidth, width, index).bad()) {
      break;
    }
    if (!std::isfinite(center) || !std::isfinite(width) || width < 1) continue;
    double low = (center - 0.5 - (width - 1) / 2 - intercept) / slope;
    double high = (center - 0.5 + (width - 1) / 2 - intercept) / slope;
    if (low > high) std::swap(low, high);
    // Values above the upper edge are shown at full brightness, values at or below the lower edge as black.
    low = std::floor(low);
    high = std::floor(high) + 1;
    extremes = extremes ? std::make_pair(std::min(extremes->first, low), std::max(extremes->second, high))
                        : std::make_pair(low, high);
  }
  if (!extremes) return std::nullopt;
  const double low = std::clamp(extremes->first, stored_min, stored_max);
  const double high = std::clamp(extremes->second, stored_min, stored_max);
  if (high <= low) return std::nullopt;  // the windows lie outside what the pixels can hold: use the full range
  return std::make_pair(low, high);
}

Result<Ink> palette_ink(DcmDataset& dataset, double stored_min, double stored_max) {
  const DcmTagKey descriptors[] = {DCM_RedPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableDescriptor,
                                   DCM_BluePaletteColorLookupTableDescriptor};
  const DcmTagKey tables[] = {DCM_RedPaletteColorLookupTableData, DCM_GreenPaletteColorLookupTableData,
                              DCM_BluePaletteColorLookupTableData};
  Uint16 entries = 0;
  Uint16 first_mapped = 0;
  if (dataset.findAndGetUint16(descriptors[0], entries, 0).bad() ||
      dataset.findAndGetUint16(descriptors[0], first_mapped, 1).bad()) {
    return make_error("invalid_pixel_module", "PALETTE COLOR without a usable lookup table descriptor");
  }
  const std::size_t count = entries == 0 ? 65536 : entries;  // PS3.3 section C.7.6.3.1.5: 0 means 2^16
  std::vector<double> luminance(count, 0.0);
  const double weights[] = {0.299, 0.587, 0.114};
  for (int channel = 0; channel < 3; ++channel) {
    const Uint16* data = nullptr;
    unsigned long words = 0;
    if (dataset.findAndGetUint16Array(tables[channel], data, &words).bad() || data == nullptr || words == 0) {
      return make_error("invalid_pixel_module", "PALETTE COLOR without lookup table data");
    }
    const bool packed_bytes = words * 2 == count;  // 8-bit entries two to a word
    if (!packed_bytes && words < count) return make_error("invalid_pixel_module", "palette shorter than its descriptor");
    for (std::size_t i = 0; i < count; ++i) {
      const double value = packed_bytes ? static_cast<double>((data[i / 2] >> (8 * (i % 2))) & 0xFF) : data[i];
      luminance[i] += weights[channel] * value;
    }
  }
  const auto brightest = std::max_element(luminance.begin(), luminance.end()) - luminance.begin();
  const auto darkest = std::min_element(luminance.begin(), luminance.end()) - luminance.begin();
  const auto index_value = [&](std::ptrdiff_t index) {
    return std::clamp(static_cast<double>(first_mapped) + static_cast<double>(index), stored_min, stored_max);
  };
  return Ink{cv::Scalar::all(index_value(brightest)), cv::Scalar::all(index_value(darkest))};
}

}  // namespace

Result<DisplayModel> DisplayModel::read(DcmDataset& dataset, const dicom::PixelModule& module) {
  DisplayModel model;
  // 32-bit samples are drawn on through a signed 32-bit view (pixel_frames.hpp): unsigned ones up to 2^31 - 1.
  const unsigned bits = std::min<std::uint32_t>(module.bits_stored, module.is_signed ? 32 : 31);
  model.stored_min_ = module.is_signed ? -std::ldexp(1.0, static_cast<int>(bits) - 1) : 0.0;
  model.stored_max_ = module.is_signed ? std::ldexp(1.0, static_cast<int>(bits) - 1) - 1 : std::ldexp(1.0, static_cast<int>(bits)) - 1;
  if (module.format != dicom::SampleFormat::integer) {
    // Float samples have no stored range: the text goes in at the frame's own maximum (ink_for), never at a limit
    // of the type, which would crush every real value to black under a min/max display.
    model.floating_ = true;
    model.stored_min_ = -std::numeric_limits<float>::max();
    model.stored_max_ = std::numeric_limits<float>::max();
  }
  const std::string& photometric = module.photometric;

  if (photometric == "MONOCHROME1" || photometric == "MONOCHROME2") {
    model.kind_ = photometric == "MONOCHROME1" ? Kind::monochrome1 : Kind::monochrome2;
    if (!model.floating_) model.window_ = stored_window(dataset, model.stored_min_, model.stored_max_);
    return model;
  }
  if (photometric == "RGB") {
    model.kind_ = Kind::rgb;
    model.fixed_ = Ink{cv::Scalar::all(model.stored_max_), cv::Scalar::all(model.stored_min_)};
    return model;
  }
  if (photometric == "YBR_FULL") {
    model.kind_ = Kind::ybr_full;
    const double neutral = std::floor((model.stored_max_ + 1) / 2);
    model.fixed_ = Ink{cv::Scalar(model.stored_max_, neutral, neutral), cv::Scalar(model.stored_min_, neutral, neutral)};
    return model;
  }
  if (photometric == "PALETTE COLOR") {
    model.kind_ = Kind::palette;
    auto ink = palette_ink(dataset, model.stored_min_, model.stored_max_);
    if (!ink) return ink.error();
    model.fixed_ = ink.value();
    return model;
  }
  return make_error("unsupported_photometric", "cannot draw on PhotometricInterpretation '" + photometric + "'");
}

Ink DisplayModel::ink_for(const Frame& frame) const {
  if (kind_ != Kind::monochrome1 && kind_ != Kind::monochrome2) return fixed_;
  double low = 0;
  double high = 0;
  if (window_) {
    std::tie(low, high) = *window_;
  } else {
    cv::minMaxLoc(frame.planes.front(), &low, &high);
    if (high <= low && floating_) {
      high = low + 1;  // a flat float frame: one unit above what it holds
    } else if (high <= low) {
      // A flat frame: draw in the opposite extreme of what it holds.
      const bool at_top = high >= stored_max_;
      high = at_top ? high : stored_max_;
      low = at_top ? stored_min_ : low;
    }
  }
  const Ink ink{cv::Scalar::all(high), cv::Scalar::all(low)};
  return kind_ == Kind::monochrome1 ? Ink{ink.box, ink.text} : ink;
}

}  // namespace creni::process
