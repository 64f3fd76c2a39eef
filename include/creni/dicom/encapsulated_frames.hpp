#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "creni/common/result.hpp"

class DcmDataset;

namespace creni::dicom {

/// The compressed bytes of one frame, its fragments joined.
using EncapsulatedFrame = std::vector<std::uint8_t>;

/// Tells whether a fragment begins a new frame (for a codec whose frames start with a signature, such as JPEG 2000).
using FrameStartTest = std::function<bool(const std::uint8_t* bytes, std::size_t size)>;

/// The frames of encapsulated Pixel Data (PS3.5 section A.4), found in this order:
///  1. the Extended Offset Table (7FE0,0001), when it has one entry per frame;
///  2. the Basic Offset Table, when it has one entry per frame;
///  3. one frame: every fragment;
///  4. as many fragments as frames: one fragment per frame;
///  5. otherwise a new frame at each fragment for which `starts_frame` is true.
/// Offsets must point at fragment starts, the first at 0, in increasing order. Errors: "decode_failed" (no pixel
/// sequence, no fragments, offsets that do not fit the fragments, fragments that cannot be split into the frames).
[[nodiscard]] Result<std::vector<EncapsulatedFrame>> encapsulated_frames(DcmDataset& dataset, std::uint32_t frames,
                                                                         const FrameStartTest& starts_frame);

}  // namespace creni::dicom
