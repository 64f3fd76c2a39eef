#include "creni/dicom/j2k_codestream.hpp"

#include <openjpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

namespace creni::dicom {

namespace {

// ISO/IEC 15444-1 Annex I.5.1: the JP2 signature box (length 12, type 'jP  ', content 0D 0A 87 0A).
constexpr std::uint8_t kJp2Signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50, 0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};
// ISO/IEC 15444-1 Annex A.4.1/A.5.1: a codestream starts with SOC (FF4F) followed by SIZ (FF51).
constexpr std::uint8_t kCodestreamStart[] = {0xFF, 0x4F, 0xFF, 0x51};

// OpenJPEG reads through callbacks; this one serves a frame that is already in memory.
struct MemorySource {
  const std::uint8_t* data;
  std::size_t size;
  std::size_t offset;
};

OPJ_SIZE_T read_from(void* buffer, OPJ_SIZE_T wanted, void* user) {
  auto* source = static_cast<MemorySource*>(user);
  if (source->offset >= source->size) return static_cast<OPJ_SIZE_T>(-1);
  const std::size_t count = std::min<std::size_t>(wanted, source->size - source->offset);
  std::memcpy(buffer, source->data + source->offset, count);
  source->offset += count;
  return count;
}

OPJ_OFF_T skip_in(OPJ_OFF_T count, void* user) {
  auto* source = static_cast<MemorySource*>(user);
  if (count < 0) {
    const auto back = std::min<std::size_t>(static_cast<std::size_t>(-count), source->offset);
    source->offset -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const auto ahead = std::min<std::size_t>(static_cast<std::size_t>(count), source->size - source->offset);
  source->offset += ahead;
  return static_cast<OPJ_OFF_T>(ahead);
}

OPJ_BOOL seek_in(OPJ_OFF_T position, void* user) {
  auto* source = static_cast<MemorySource*>(user);
  if (position < 0 || static_cast<std::size_t>(position) > source->size) return OPJ_FALSE;
  source->offset = static_cast<std::size_t>(position);
  return OPJ_TRUE;
}

// OpenJPEG reports through callbacks; the last error becomes the reason of a failed decode.
void keep_error(const char* message, void* user) {
  auto* last = static_cast<std::string*>(user);
  *last = message == nullptr ? "" : message;
  while (!last->empty() && (last->back() == '\n' || last->back() == ' ')) last->pop_back();
}
void ignore_message(const char*, void*) {}

struct CodecDeleter {
  void operator()(opj_codec_t* codec) const { opj_destroy_codec(codec); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* stream) const { opj_stream_destroy(stream); }
};
struct ImageDeleter {
  void operator()(opj_image_t* image) const { opj_image_destroy(image); }
};

Error failed(const std::string& what, const std::string& detail) {
  return make_error("decode_failed", "JPEG 2000: " + what + (detail.empty() ? "" : ": " + detail));
}

Error mismatch(const std::string& why) { return make_error("invalid_pixel_module", "JPEG 2000 frame " + why); }

// The header's geometry against the pixel module, before any sample memory exists.
Status check_header(const opj_image_t& image, const J2kExpectation& expected) {
  const std::uint64_t width = image.x1 - image.x0;
  const std::uint64_t height = image.y1 - image.y0;
  if (image.x1 < image.x0 || image.y1 < image.y0 || width != expected.columns || height != expected.rows) {
    return mismatch("is " + std::to_string(width) + "x" + std::to_string(height) + ", the pixel module declares " +
                    std::to_string(expected.columns) + "x" + std::to_string(expected.rows));
  }
  if (image.numcomps != expected.samples_per_pixel) {
    return mismatch("has " + std::to_string(image.numcomps) + " components, SamplesPerPixel is " +
                    std::to_string(expected.samples_per_pixel));
  }
  for (OPJ_UINT32 c = 0; c < image.numcomps; ++c) {
    const opj_image_comp_t& component = image.comps[c];
    if (component.dx != 1 || component.dy != 1) return mismatch("has subsampled components");
    if (component.prec == 0 || component.prec > expected.bits_allocated || component.prec > 31) {
      return mismatch("has " + std::to_string(component.prec) + "-bit samples, BitsAllocated is " +
                      std::to_string(expected.bits_allocated));
    }
  }
  return {};
}

bool multi_component_transform_of(opj_codec_t* codec) {
  opj_codestream_info_v2_t* info = opj_get_cstr_info(codec);
  if (info == nullptr) return false;
  const bool mct = info->m_default_tile_info.mct != 0;
  opj_destroy_cstr_info(&info);
  return mct;
}

}  // namespace

bool is_jp2_file(const std::uint8_t* bytes, std::size_t size) {
  return size >= sizeof kJp2Signature && std::memcmp(bytes, kJp2Signature, sizeof kJp2Signature) == 0;
}

bool starts_j2k_frame(const std::uint8_t* bytes, std::size_t size) {
  return is_jp2_file(bytes, size) ||
         (size >= sizeof kCodestreamStart && std::memcmp(bytes, kCodestreamStart, sizeof kCodestreamStart) == 0);
}

Result<J2kFrame> decode_j2k_frame(const std::uint8_t* bytes, std::size_t size, const J2kExpectation& expected) {
  if (bytes == nullptr || !starts_j2k_frame(bytes, size)) {
    return failed("frame starts with neither a codestream (SOC, SIZ) nor a JP2 signature", "");
  }
  const bool jp2 = is_jp2_file(bytes, size);
  std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
  if (!codec) return failed("cannot create a decoder", "");
  std::string last_error;
  opj_set_error_handler(codec.get(), keep_error, &last_error);
  opj_set_warning_handler(codec.get(), ignore_message, nullptr);
  opj_set_info_handler(codec.get(), ignore_message, nullptr);
  opj_dparameters_t parameters;
  opj_set_default_decoder_parameters(&parameters);
  if (!opj_setup_decoder(codec.get(), &parameters)) return failed("decoder set-up refused", last_error);

  MemorySource source{bytes, size, 0};
  std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(64 * 1024, OPJ_TRUE));
  if (!stream) return failed("cannot create a stream", "");
  opj_stream_set_read_function(stream.get(), read_from);
  opj_stream_set_skip_function(stream.get(), skip_in);
  opj_stream_set_seek_function(stream.get(), seek_in);
  opj_stream_set_user_data(stream.get(), &source, nullptr);
  opj_stream_set_user_data_length(stream.get(), size);

  opj_image_t* raw_image = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw_image) || raw_image == nullptr) {
    if (raw_image != nullptr) opj_image_destroy(raw_image);
    return failed("unreadable header", last_error);
  }
  std::unique_ptr<opj_image_t, ImageDeleter> image(raw_image);
  if (Status header = check_header(*image, expected); !header) return header.error();

  J2kFrame frame;
  frame.components = image->numcomps;
  frame.precision = image->comps[0].prec;
  frame.is_signed = image->comps[0].sgnd != 0;
  frame.multi_component_transform = image->numcomps == 3 && multi_component_transform_of(codec.get());

  if (!opj_decode(codec.get(), stream.get(), image.get()) || !opj_end_decompress(codec.get(), stream.get())) {
    return failed("corrupt codestream", last_error);
  }
  const std::size_t pixels = static_cast<std::size_t>(expected.rows) * expected.columns;
  for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
    const opj_image_comp_t& component = image->comps[c];
    if (component.data == nullptr || static_cast<std::size_t>(component.w) * component.h != pixels) {
      return failed("decoded component " + std::to_string(c) + " does not cover the image", last_error);
    }
  }
  frame.samples.resize(pixels * image->numcomps);
  for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
    const OPJ_INT32* data = image->comps[c].data;
    for (std::size_t p = 0; p < pixels; ++p) frame.samples[p * image->numcomps + c] = data[p];
  }
  return frame;
}

}  // namespace creni::dicom
