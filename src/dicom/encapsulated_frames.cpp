#include "creni/dicom/encapsulated_frames.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>

#include <algorithm>
#include <string>

namespace creni::dicom {

namespace {

// PS3.5 section A.4: every item has an 8-byte header (tag and length) before its value.
constexpr std::uint64_t kItemHeaderBytes = 8;

Error unsplittable(const std::string& why) { return make_error("decode_failed", "encapsulated Pixel Data: " + why); }

struct Fragment {
  const std::uint8_t* bytes = nullptr;
  std::size_t size = 0;
  std::uint64_t offset = 0;  ///< of its item header, from the first fragment's item header
};

Result<DcmPixelSequence*> pixel_sequence_of(DcmDataset& dataset) {
  DcmElement* element = nullptr;
  if (dataset.findAndGetElement(DCM_PixelData, element).bad() || element == nullptr) {
    return unsplittable("no Pixel Data element");
  }
  auto* pixel_data = dynamic_cast<DcmPixelData*>(element);
  if (pixel_data == nullptr) return unsplittable("Pixel Data is not a pixel data element");
  E_TransferSyntax representation = EXS_Unknown;
  const DcmRepresentationParameter* parameter = nullptr;
  pixel_data->getOriginalRepresentationKey(representation, parameter);
  DcmPixelSequence* sequence = nullptr;
  if (pixel_data->getEncapsulatedRepresentation(representation, parameter, sequence).bad() || sequence == nullptr) {
    return unsplittable("Pixel Data is not encapsulated (no item sequence)");
  }
  return sequence;
}

// Reads little endian offsets of `width` bytes each (the Basic Offset Table's are 4 bytes).
std::vector<std::uint64_t> offsets_in(const std::uint8_t* bytes, std::size_t size, std::size_t width) {
  std::vector<std::uint64_t> offsets;
  if (bytes == nullptr) return offsets;
  for (std::size_t at = 0; at + width <= size; at += width) {
    std::uint64_t value = 0;
    for (std::size_t b = 0; b < width; ++b) value |= static_cast<std::uint64_t>(bytes[at + b]) << (8 * b);
    offsets.push_back(value);
  }
  return offsets;
}

// Extended Offset Table (7FE0,0001), OV: DCMTK holds its values in host byte order.
std::vector<std::uint64_t> extended_offsets(DcmDataset& dataset) {
  const Uint64* values = nullptr;
  unsigned long count = 0;
  if (dataset.findAndGetUint64Array(DCM_ExtendedOffsetTable, values, &count).bad() || values == nullptr) return {};
  return std::vector<std::uint64_t>(values, values + count);
}

EncapsulatedFrame joined(const std::vector<Fragment>& fragments, std::size_t first, std::size_t end) {
  EncapsulatedFrame frame;
  std::size_t total = 0;
  for (std::size_t i = first; i < end; ++i) total += fragments[i].size;
  frame.reserve(total);
  for (std::size_t i = first; i < end; ++i) frame.insert(frame.end(), fragments[i].bytes, fragments[i].bytes + fragments[i].size);
  return frame;
}

// Fragment indices where each frame starts, from a table of item offsets.
Result<std::vector<std::size_t>> starts_from_offsets(const std::vector<Fragment>& fragments,
                                                     const std::vector<std::uint64_t>& offsets) {
  std::vector<std::size_t> starts;
  std::size_t next = 0;
  for (const std::uint64_t offset : offsets) {
    while (next < fragments.size() && fragments[next].offset < offset) ++next;
    if (next == fragments.size() || fragments[next].offset != offset || (!starts.empty() && starts.back() == next)) {
      return unsplittable("offset " + std::to_string(offset) + " does not start a fragment after the previous frame");
    }
    starts.push_back(next);
  }
  if (starts.empty() || starts.front() != 0) return unsplittable("the first offset is not 0");
  return starts;
}

}  // namespace

Result<std::vector<EncapsulatedFrame>> encapsulated_frames(DcmDataset& dataset, std::uint32_t frames,
                                                           const FrameStartTest& starts_frame) {
  auto sequence = pixel_sequence_of(dataset);
  if (!sequence) return sequence.error();
  std::vector<Fragment> fragments;
  std::vector<std::uint64_t> basic_offsets;
  std::uint64_t offset = 0;
  for (unsigned long index = 0; index < sequence.value()->card(); ++index) {
    DcmPixelItem* item = nullptr;
    Uint8* bytes = nullptr;
    if (sequence.value()->getItem(item, index).bad() || item == nullptr) return unsplittable("unreadable item");
    const Uint32 length = item->getLength();
    if (length > 0 && (item->getUint8Array(bytes).bad() || bytes == nullptr)) return unsplittable("unreadable item");
    if (index == 0) {
      basic_offsets = offsets_in(bytes, length, 4);
      continue;
    }
    fragments.push_back(Fragment{bytes, length, offset});
    offset += kItemHeaderBytes + length;
  }
  if (fragments.empty() || frames == 0) return unsplittable("no fragments");

  std::vector<std::size_t> starts;
  const std::vector<std::uint64_t> extended = extended_offsets(dataset);
  const std::vector<std::uint64_t>* table = extended.size() == frames        ? &extended
                                            : basic_offsets.size() == frames ? &basic_offsets
                                                                             : nullptr;
  if (table != nullptr) {
    auto from_table = starts_from_offsets(fragments, *table);
    if (!from_table) return from_table.error();
    starts = std::move(from_table).value();
  } else if (frames == 1) {
    starts = {0};
  } else if (fragments.size() == frames) {
    for (std::size_t i = 0; i < fragments.size(); ++i) starts.push_back(i);
  } else {
    for (std::size_t i = 0; i < fragments.size(); ++i) {
      if (starts_frame && starts_frame(fragments[i].bytes, fragments[i].size)) starts.push_back(i);
    }
    if (starts.size() != frames || starts.front() != 0) {
      return unsplittable(std::to_string(fragments.size()) + " fragments without a usable offset table cannot be split into " +
                          std::to_string(frames) + " frames");
    }
  }
  std::vector<EncapsulatedFrame> result;
  result.reserve(starts.size());
  for (std::size_t i = 0; i < starts.size(); ++i) {
    result.push_back(joined(fragments, starts[i], i + 1 < starts.size() ? starts[i + 1] : fragments.size()));
  }
  return result;
}

}  // namespace creni::dicom
