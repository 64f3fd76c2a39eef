#include "creni/process/text_burner.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace creni::process {

namespace {

constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
constexpr double kHeightFraction = 1.0 / 24.0;
constexpr int kMinimumTextHeight = 8;

int margin_for(int columns, int rows) { return std::max(1, std::min(columns, rows) / 64); }

}  // namespace

TextPlacement place_text(const std::string& text, int columns, int rows) {
  int baseline = 0;
  const cv::Size unit = cv::getTextSize(text, kFont, 1.0, 1, &baseline);
  const int margin = margin_for(columns, rows);
  const double wanted_height = std::max<double>(kMinimumTextHeight, rows * kHeightFraction);
  double scale = wanted_height / std::max(1, unit.height);
  const double available_width = std::max(1, columns - 4 * margin);
  scale = std::min(scale, available_width / std::max(1, unit.width));
  scale = std::max(scale, 0.1);

  TextPlacement placement;
  placement.font_scale = scale;
  placement.thickness = std::max(1, static_cast<int>(std::lround(scale * 1.6)));
  const cv::Size size = cv::getTextSize(text, kFont, scale, placement.thickness, &baseline);
  const int pad = std::max(1, size.height / 4);
  placement.box = cv::Rect(margin, margin, size.width + 2 * pad, size.height + baseline + 2 * pad) &
                  cv::Rect(0, 0, columns, rows);
  return placement;
}

void draw_text(Frame& frame, const std::string& text, const TextPlacement& placement, const Ink& ink) {
  int baseline = 0;
  const cv::Size size = cv::getTextSize(text, kFont, placement.font_scale, placement.thickness, &baseline);
  const int pad = std::max(1, size.height / 4);
  const cv::Point origin(placement.box.x + pad, placement.box.y + pad + size.height);
  const bool planar = frame.planes.size() > 1;
  for (std::size_t plane = 0; plane < frame.planes.size(); ++plane) {
    cv::Mat& target = frame.planes[plane];
    // A planar frame holds one sample per plane: draw each plane in its own component of the ink.
    const cv::Scalar box = planar ? cv::Scalar::all(ink.box[static_cast<int>(plane)]) : ink.box;
    const cv::Scalar fill = planar ? cv::Scalar::all(ink.text[static_cast<int>(plane)]) : ink.text;
    cv::rectangle(target, placement.box, box, cv::FILLED);
    cv::putText(target, text, origin, kFont, placement.font_scale, fill, placement.thickness, cv::LINE_8);
  }
}

int outline_thickness(int columns, int rows) { return std::max(1, std::min(columns, rows) / 256); }

void draw_outline(Frame& frame, const cv::Mat& mask, const Ink& ink, int thickness) {
  std::vector<std::vector<cv::Point>> contours;
  // Outer borders only: the points are the region's own boundary pixels, so a 1-pixel outline covers exactly them.
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
  if (contours.empty()) return;
  const bool planar = frame.planes.size() > 1;
  for (std::size_t plane = 0; plane < frame.planes.size(); ++plane) {
    const cv::Scalar color = planar ? cv::Scalar::all(ink.text[static_cast<int>(plane)]) : ink.text;
    cv::drawContours(frame.planes[plane], contours, -1, color, thickness, cv::LINE_8);
  }
}

std::string annotation_text(const std::string& marker, const std::vector<Finding>& findings) {
  std::string text = marker;
  for (std::size_t i = 0; i < findings.size(); ++i) {
    char score[16];
    std::snprintf(score, sizeof score, "%.2f", findings[i].score);
    text += (i == 0 ? ": " : ", ") + findings[i].label + " " + score;
  }
  return text;
}

// BitsAllocated 1 (segmentations): the text sets bits, its box clears them, in a plane unpacked per frame.
Status burn_into_bits(ProcessingContext& context, const std::string& text, const TextPlacement& placement) {
  DcmDataset& dataset = context.instance.dataset();
  auto planes = unpack_bit_frames(dataset, *context.pixels);
  if (!planes) return planes.error();
  const Ink ink{cv::Scalar::all(1), cv::Scalar::all(0)};
  for (cv::Mat& plane : planes.value()) {
    Frame frame{{plane}};
    draw_text(frame, text, placement, ink);
  }
  return pack_bit_frames(dataset, *context.pixels, planes.value());
}

Status TextBurner::apply(ProcessingContext& context) {
  if (!context.pixels) return {};  // nothing to draw on (a non-image passed by policy)
  DcmDataset& dataset = context.instance.dataset();
  if (context.pixels->bits_allocated == 1) {
    const std::string text = annotation_text(context.config.marker, context.findings);
    const TextPlacement placement =
        place_text(text, static_cast<int>(context.pixels->columns), static_cast<int>(context.pixels->rows));
    try {
      if (Status burned = burn_into_bits(context, text, placement); !burned) return burned;
    } catch (const cv::Exception& e) {
      return make_error("burn_in_failed", e.what());
    }
    context.burned_in = true;
    return {};
  }
  auto display = DisplayModel::read(dataset, *context.pixels);
  if (!display) return display.error();
  auto frames = frames_of(dataset, *context.pixels);
  if (!frames) return frames.error();

  const std::string text = annotation_text(context.config.marker, context.findings);
  const TextPlacement placement =
      place_text(text, static_cast<int>(context.pixels->columns), static_cast<int>(context.pixels->rows));
  const int thickness = outline_thickness(static_cast<int>(context.pixels->columns), static_cast<int>(context.pixels->rows));
  try {
    for (std::size_t index = 0; index < frames->size(); ++index) {
      Frame& frame = frames.value()[index];
      // The ink is chosen before drawing: an outline must not change what the frame's own range is.
      const Ink ink = display->ink_for(frame);
      for (const FindingMask& region : context.masks) {
        if (region.frame == index && !region.mask.empty()) draw_outline(frame, region.mask, ink, thickness);
      }
      draw_text(frame, text, placement, ink);  // last: the text stays readable where an outline crosses it
    }
  } catch (const cv::Exception& e) {
    return make_error("burn_in_failed", e.what());
  }
  context.burned_in = true;
  return {};
}

}  // namespace creni::process
