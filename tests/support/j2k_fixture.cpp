#include "j2k_fixture.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrov.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <fstream>
#include <vector>

#include "harness.hpp"

namespace creni::testing {

namespace {

using Bytes = std::vector<std::uint8_t>;

bool is_lossy_syntax(const std::string& uid) {
  return uid == UID_JPEG2000TransferSyntax || uid == "1.2.840.10008.1.2.4.203";
}

int value_of(const ImageSpec& spec, int frame, int row, int column, int sample) {
  return spec.pixel ? spec.pixel(frame, row, column, sample) : default_pixel(spec, frame, row, column, sample);
}

// One frame as opj_compress's raw input: component after component, little endian samples above 8 bits.
Bytes raw_frame(const ImageSpec& spec, const J2kOptions& options, int frame) {
  const int samples = samples_for(spec.photometric);
  const int bytes_per_sample = spec.bits_stored > 8 ? 2 : 1;
  const int mask = (1 << spec.bits_stored) - 1;
  Bytes raw;
  for (int sample = 0; sample < samples; ++sample) {
    for (int row = 0; row < spec.rows; ++row) {
      for (int column = 0; column < spec.columns; ++column) {
        int value = value_of(spec, frame, row, column, sample);
        if (options.unsigned_codestream) value &= mask;
        raw.push_back(static_cast<std::uint8_t>(value & 0xFF));
        if (bytes_per_sample == 2) raw.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
      }
    }
  }
  return raw;
}

bool is_htj2k_syntax(const std::string& uid) { return uid.rfind("1.2.840.10008.1.2.4.20", 0) == 0; }

void write_file(const std::filesystem::path& path, const std::string& header, const Bytes& body) {
  std::ofstream out(path, std::ios::binary);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

// OpenJPEG's opj_compress takes raw little endian samples, component after component.
std::vector<std::string> opj_compress_command(const ImageSpec& spec, const J2kOptions& options, int frame,
                                              const std::filesystem::path& input, const std::filesystem::path& output) {
  write_file(input, "", raw_frame(spec, options, frame));
  const bool is_signed = spec.is_signed && !options.unsigned_codestream;
  std::vector<std::string> argv = {
      harness::find_program("opj_compress"), "-i", input.string(), "-o", output.string(), "-F",
      std::to_string(spec.columns) + "," + std::to_string(spec.rows) + "," + std::to_string(samples_for(spec.photometric)) +
          "," + std::to_string(spec.bits_stored) + "," + (is_signed ? "s" : "u")};
  if (options.lossy || is_lossy_syntax(spec.transfer_syntax)) argv.insert(argv.end(), {"-I", "-r", "10"});
  if (samples_for(spec.photometric) == 3) argv.insert(argv.end(), {"-mct", options.mct ? "1" : "0"});
  return argv;
}

// Colour as a binary PPM (interleaved, big endian above 8 bits): OpenJPH's ojph_compress applies its colour
// transform only to PPM input, not to raw planes.
Bytes ppm_frame(const ImageSpec& spec, int frame) {
  Bytes body;
  for (int row = 0; row < spec.rows; ++row) {
    for (int column = 0; column < spec.columns; ++column) {
      for (int sample = 0; sample < 3; ++sample) {
        const int value = value_of(spec, frame, row, column, sample);
        if (spec.bits_stored > 8) body.push_back(static_cast<std::uint8_t>((value >> 8) & 0xFF));
        body.push_back(static_cast<std::uint8_t>(value & 0xFF));
      }
    }
  }
  return body;
}

// OpenJPH's ojph_compress writes a real Part 15 (HT block coder) codestream; opj_compress cannot.
Result<std::vector<std::string>> ojph_compress_command(const ImageSpec& spec, const J2kOptions& options, int frame,
                                                       const std::filesystem::path& work,
                                                       const std::filesystem::path& output) {
  const int samples = samples_for(spec.photometric);
  std::vector<std::string> argv = {harness::find_program("ojph_compress"), "-o", output.string(), "-reversible",
                                   options.lossy || is_lossy_syntax(spec.transfer_syntax) ? "false" : "true"};
  if (samples == 3) {
    const auto input = work / ("frame" + std::to_string(frame) + ".ppm");
    write_file(input,
               "P6\n" + std::to_string(spec.columns) + " " + std::to_string(spec.rows) + "\n" +
                   std::to_string((1 << spec.bits_stored) - 1) + "\n",
               ppm_frame(spec, frame));
    argv.insert(argv.end(), {"-i", input.string(), "-colour_trans", options.mct ? "true" : "false"});
    return argv;
  }
  const auto input = work / ("frame" + std::to_string(frame) + ".yuv");
  write_file(input, "", raw_frame(spec, options, frame));
  argv.insert(argv.end(), {"-i", input.string(), "-dims",
                           "{" + std::to_string(spec.columns) + "," + std::to_string(spec.rows) + "}", "-num_comps", "1",
                           "-signed", "false", "-bit_depth", std::to_string(spec.bits_stored),
                           "-downsamp", "{1,1}"});
  return argv;
}

Result<Bytes> compress_frame(const ImageSpec& spec, const J2kOptions& options, int frame,
                             const std::filesystem::path& work) {
  // Signed pixels under an HTJ2K UID still get a Part 1 codestream: Debian's OpenJPH 0.9 encodes negative samples
  // in a way other decoders read differently (OpenJPH issue 102; OpenJPEG 2.5.0 returns 32767 for every sample).
  const bool high_throughput = is_htj2k_syntax(spec.transfer_syntax) && !spec.is_signed && !options.jp2 &&
                               !options.unsigned_codestream;
  const auto output = work / ("frame" + std::to_string(frame) + (options.jp2 ? ".jp2" : high_throughput ? ".j2c" : ".j2k"));
  std::vector<std::string> argv;
  if (high_throughput) {
    auto command = ojph_compress_command(spec, options, frame, work, output);
    if (!command) return command.error();
    argv = std::move(command.value());
  } else {
    argv = opj_compress_command(spec, options, frame, work / ("frame" + std::to_string(frame) + ".rawl"), output);
  }
  const auto result = harness::run_command(argv, std::chrono::seconds(60));
  if (result.exit_code != 0) return make_error("test_setup", argv[0] + " failed: " + result.out + result.err);
  std::ifstream in(output, std::ios::binary);
  Bytes codestream((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (codestream.empty()) return make_error("test_setup", argv[0] + " wrote nothing");
  if (codestream.size() % 2 != 0) codestream.push_back(0);  // items have even lengths (PS3.5 section A.4)
  return codestream;
}

std::string written_photometric(const ImageSpec& spec, const J2kOptions& options) {
  if (!options.photometric.empty()) return options.photometric;
  if (samples_for(spec.photometric) == 3 && options.mct) {
    return options.lossy || is_lossy_syntax(spec.transfer_syntax) ? "YBR_ICT" : "YBR_RCT";
  }
  return spec.photometric;
}

}  // namespace

bool is_j2k_syntax(const std::string& uid) {
  return uid == UID_JPEG2000LosslessOnlyTransferSyntax || uid == UID_JPEG2000TransferSyntax ||
         uid == "1.2.840.10008.1.2.4.201" || uid == "1.2.840.10008.1.2.4.202" || uid == "1.2.840.10008.1.2.4.203";
}

Status write_j2k_image(const ImageSpec& spec, const J2kOptions& options, const std::filesystem::path& file) {
  if (!is_j2k_syntax(spec.transfer_syntax)) return make_error("test_setup", "not a JPEG 2000 syntax");
  const std::filesystem::path work = file.parent_path() / (file.filename().string() + ".j2k-work");
  std::filesystem::create_directories(work);

  auto image = make_image(spec);
  DcmDataset* data = image->getDataset();
  auto* sequence = new DcmPixelSequence(DCM_PixelSequenceTag);
  auto* offset_table = new DcmPixelItem(DCM_PixelItemTag);
  sequence->insert(offset_table);
  std::vector<Uint32> basic_offsets;
  std::vector<Uint64> extended_offsets;
  std::vector<Uint64> extended_lengths;
  Uint64 position = 0;
  for (int frame = 0; frame < spec.frames; ++frame) {
    auto codestream = compress_frame(spec, options, frame, work);
    if (!codestream) return codestream.error();
    const Bytes& bytes = codestream.value();
    basic_offsets.push_back(static_cast<Uint32>(position));
    extended_offsets.push_back(position);
    extended_lengths.push_back(bytes.size());
    const std::size_t pieces = static_cast<std::size_t>(std::max(1, options.fragments_per_frame));
    const std::size_t piece = ((bytes.size() / pieces) + 1) & ~static_cast<std::size_t>(1);
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
      const std::size_t length = std::min(piece, bytes.size() - at);
      auto* item = new DcmPixelItem(DCM_PixelItemTag);
      item->putUint8Array(bytes.data() + at, static_cast<Uint32>(length));
      sequence->insert(item);
      position += 8 + length;
    }
  }
  std::filesystem::remove_all(work);
  if (options.basic_offset_table) {
    Bytes table;
    for (const Uint32 offset : basic_offsets) {
      for (int b = 0; b < 4; ++b) table.push_back(static_cast<std::uint8_t>(offset >> (8 * b)));
    }
    offset_table->putUint8Array(table.data(), static_cast<Uint32>(table.size()));
  }
  if (options.extended_offset_table) {
    auto* offsets = new DcmOther64bitVeryLong(DcmTag(DCM_ExtendedOffsetTable, EVR_OV));
    offsets->putUint64Array(extended_offsets.data(), static_cast<unsigned long>(extended_offsets.size()));
    data->insert(offsets, OFTrue);
    auto* lengths = new DcmOther64bitVeryLong(DcmTag(DCM_ExtendedOffsetTableLengths, EVR_OV));
    lengths->putUint64Array(extended_lengths.data(), static_cast<unsigned long>(extended_lengths.size()));
    data->insert(lengths, OFTrue);
  }
  const bool lossy = options.lossy || is_lossy_syntax(spec.transfer_syntax);
  const E_TransferSyntax representation = lossy ? EXS_JPEG2000 : EXS_JPEG2000LosslessOnly;
  auto* pixel_data = new DcmPixelData(DCM_PixelData);
  pixel_data->putOriginalRepresentation(representation, nullptr, sequence);
  data->insert(pixel_data, OFTrue);
  data->putAndInsertString(DCM_PhotometricInterpretation, written_photometric(spec, options).c_str());
  if (samples_for(spec.photometric) == 3) data->putAndInsertString(DCM_PlanarConfiguration, "0");
  if (lossy) data->putAndInsertString(DCM_LossyImageCompression, "01");

  OFCondition saved = image->saveFile(file.c_str(), representation, EET_UndefinedLength, EGL_recalcGL, EPD_withoutPadding);
  if (saved.good() && std::string(DcmXfer(representation).getXferID()) != spec.transfer_syntax) {
    // HTJ2K is unknown to DCMTK 3.6.7: write the same encoding under its UID in the meta header.
    DcmMetaInfo* meta = image->getMetaInfo();
    meta->putAndInsertString(DCM_TransferSyntaxUID, spec.transfer_syntax.c_str());
    meta->computeGroupLengthAndPadding(EGL_recalcGL, EPD_noChange, EXS_LittleEndianExplicit, EET_ExplicitLength);
    saved = image->saveFile(file.c_str(), representation, EET_UndefinedLength, EGL_recalcGL, EPD_withoutPadding, 0, 0,
                            EWM_dontUpdateMeta);
  }
  if (saved.bad()) return make_error("test_setup", std::string("cannot save: ") + saved.text());
  return {};
}

}  // namespace creni::testing
