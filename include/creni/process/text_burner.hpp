#pragma once

#include <string>
#include <vector>

#include "creni/process/display_ink.hpp"
#include "creni/process/processor.hpp"

namespace creni::process {

/// Where the text was drawn on a frame, in pixels (for tests and for later steps that must not draw over it).
struct TextPlacement {
  cv::Rect box;        ///< the filled background box, text inside it
  double font_scale = 1.0;
  int thickness = 1;
};

/// Lays out `text` in the top-left corner of a `columns` x `rows` frame: about 1/24 of the height, shrunk to fit
/// the width, with a margin.
[[nodiscard]] TextPlacement place_text(const std::string& text, int columns, int rows);

/// Draws `text` on one frame: a box in `ink.box`, the text in `ink.text`, on every plane of the frame.
void draw_text(Frame& frame, const std::string& text, const TextPlacement& placement, const Ink& ink);

/// The outline width for a `columns` x `rows` image: 1 pixel up to 511, then about 1/256 of the shorter side.
[[nodiscard]] int outline_thickness(int columns, int rows);

/// Draws the outline of `mask` (CV_8U, the frame's size, non-zero inside) on every plane of `frame` in `ink.text`:
/// the outer boundary pixels of each region (cv::findContours), `thickness` pixels wide.
void draw_outline(Frame& frame, const cv::Mat& mask, const Ink& ink, int thickness);

/// The text burned into the image: the marker, then the findings of earlier steps ("ScreenedByAI: nodule 0.93").
[[nodiscard]] std::string annotation_text(const std::string& marker, const std::vector<Finding>& findings);

/// Step "burn_in": draws the annotation into every frame of the image, and the outline of every region an earlier
/// step found (ProcessingContext::masks) on its frame, visible under the image's own display (DisplayModel), on
/// decoded native pixel data. Errors: those of frames_of() and DisplayModel::read().
class TextBurner final : public Processor {
 public:
  [[nodiscard]] std::string_view name() const override { return "burn_in"; }
  [[nodiscard]] bool needs_pixels() const override { return true; }
  [[nodiscard]] Status apply(ProcessingContext& context) override;
};

}  // namespace creni::process
