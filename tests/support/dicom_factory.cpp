#include "dicom_factory.hpp"

#include "j2k_fixture.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>  // color support for the JPEG encoders
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpeg/djrploss.h>
#include <dcmtk/dcmjpls/djencode.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace creni::testing {

namespace {

// Encoders are process-wide in DCMTK; tests register them once, on first use, and never unregister.
void register_encoders() {
  static const bool registered = [] {
    // Keep the SOP Instance UID of lossy test images: tests compare what they sent with what arrived.
    DJEncoderRegistration::registerCodecs(ECC_lossyYCbCr, EUC_never);
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
    return true;
  }();
  (void)registered;
}

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace

int samples_for(const std::string& photometric) {
  return photometric == "RGB" || photometric.rfind("YBR", 0) == 0 ? 3 : 1;
}

std::string fresh_uid() {
  char buffer[100];
  return dcmGenerateUniqueIdentifier(buffer, SITE_INSTANCE_UID_ROOT);
}

int default_pixel(const ImageSpec& spec, int frame, int row, int column, int sample) {
  const int bits = std::min(spec.bits_stored, 31);  // an int holds the test patterns of 32-bit images too
  const int max_value = spec.is_signed ? static_cast<int>((1LL << (bits - 1)) - 1) : static_cast<int>((1LL << bits) - 1);
  const int min_value = spec.is_signed ? static_cast<int>(-(1LL << (bits - 1))) : 0;
  double center = (min_value + max_value) / 2.0;
  if (spec.window && samples_for(spec.photometric) == 1) {
    center = (spec.window->first - spec.rescale_intercept) / spec.rescale_slope;
  }
  const int value = static_cast<int>(center) + ((row + column + 3 * frame + 7 * sample) % 16) - 8;
  return std::clamp(value, min_value, max_value);
}

std::unique_ptr<DcmFileFormat> make_image(const ImageSpec& spec) {
  auto file = std::make_unique<DcmFileFormat>();
  DcmDataset* data = file->getDataset();
  const auto put = [&](const DcmTagKey& tag, const std::string& value) { data->putAndInsertString(tag, value.c_str()); };
  if (!spec.specific_character_set.empty()) put(DCM_SpecificCharacterSet, spec.specific_character_set);
  put(DCM_SOPClassUID, spec.sop_class_uid);
  put(DCM_SOPInstanceUID, spec.sop_instance_uid.empty() ? fresh_uid() : spec.sop_instance_uid);
  put(DCM_StudyInstanceUID, spec.study_instance_uid.empty() ? fresh_uid() : spec.study_instance_uid);
  put(DCM_SeriesInstanceUID, spec.series_instance_uid.empty() ? fresh_uid() : spec.series_instance_uid);
  put(DCM_Modality, "CT");
  put(DCM_PatientName, spec.patient_name);
  put(DCM_PatientID, "TEST-0001");
  put(DCM_StudyDescription, spec.study_description);
  put(DCM_SeriesDescription, spec.series_description);
  put(DCM_ImageType, "ORIGINAL\\PRIMARY\\AXIAL");
  put(DCM_InstanceNumber, "1");
  if (!spec.with_pixel_data) return file;

  const int samples = samples_for(spec.photometric);
  data->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(spec.rows));
  data->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(spec.columns));
  data->putAndInsertUint16(DCM_SamplesPerPixel, static_cast<Uint16>(samples));
  data->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(spec.bits_allocated));
  data->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(spec.bits_stored));
  data->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(spec.bits_stored - 1));
  data->putAndInsertUint16(DCM_PixelRepresentation, spec.is_signed ? 1 : 0);
  put(DCM_PhotometricInterpretation, spec.photometric);
  if (samples > 1) data->putAndInsertUint16(DCM_PlanarConfiguration, static_cast<Uint16>(spec.planar_configuration));
  if (spec.frames > 1) put(DCM_NumberOfFrames, std::to_string(spec.frames));
  if (spec.window) {
    put(DCM_WindowCenter, number(spec.window->first));
    put(DCM_WindowWidth, number(spec.window->second));
  }
  if (samples == 1) {
    put(DCM_RescaleSlope, number(spec.rescale_slope));
    put(DCM_RescaleIntercept, number(spec.rescale_intercept));
  }

  const std::size_t pixels_per_frame = static_cast<std::size_t>(spec.rows) * spec.columns;
  const std::size_t values = pixels_per_frame * samples * spec.frames;
  const auto value_at = [&](std::size_t index) {
    const std::size_t frame = index / (pixels_per_frame * samples);
    const std::size_t within = index % (pixels_per_frame * samples);
    std::size_t pixel = 0;
    std::size_t sample = 0;
    if (samples > 1 && spec.planar_configuration == 1) {
      sample = within / pixels_per_frame;
      pixel = within % pixels_per_frame;
    } else {
      sample = within % samples;
      pixel = within / samples;
    }
    const int row = static_cast<int>(pixel / spec.columns);
    const int column = static_cast<int>(pixel % spec.columns);
    return spec.pixel ? spec.pixel(static_cast<int>(frame), row, column, static_cast<int>(sample))
                      : default_pixel(spec, static_cast<int>(frame), row, column, static_cast<int>(sample));
  };
  if (spec.photometric == "YBR_FULL_422") {
    // PS3.3 section C.7.6.3.1.2: Y1 Y2 Cb Cr for each pair of pixels; the pair shares the first pixel's chroma.
    std::vector<Uint8> bytes;
    for (int frame = 0; frame < spec.frames; ++frame) {
      for (int row = 0; row < spec.rows; ++row) {
        for (int column = 0; column + 1 < spec.columns; column += 2) {
          const auto at = [&](int c, int sample) {
            return static_cast<Uint8>(spec.pixel ? spec.pixel(frame, row, c, sample) : default_pixel(spec, frame, row, c, sample));
          };
          bytes.insert(bytes.end(), {at(column, 0), at(column + 1, 0), at(column, 1), at(column, 2)});
        }
      }
    }
    data->putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size()));
  } else if (spec.bits_allocated == 1) {
    std::vector<Uint8> bytes((values + 7) / 8 + ((values + 7) / 8) % 2, 0);  // packed back to back, LSB first
    for (std::size_t i = 0; i < values; ++i) {
      if (value_at(i) != 0) bytes[i / 8] = static_cast<Uint8>(bytes[i / 8] | (1U << (i % 8)));
    }
    data->putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(bytes.size()));
  } else if (spec.bits_allocated == 32) {
    std::vector<Uint32> words(values);
    for (std::size_t i = 0; i < values; ++i) words[i] = static_cast<Uint32>(value_at(i));
    data->putAndInsertUint16Array(DCM_PixelData, reinterpret_cast<const Uint16*>(words.data()),
                                  static_cast<unsigned long>(values * 2));
  } else if (spec.bits_allocated == 8) {
    std::vector<Uint8> bytes(values + (values % 2));
    for (std::size_t i = 0; i < values; ++i) bytes[i] = static_cast<Uint8>(value_at(i));
    data->putAndInsertUint8Array(DCM_PixelData, bytes.data(), static_cast<unsigned long>(values));
  } else {
    std::vector<Uint16> words(values);
    for (std::size_t i = 0; i < values; ++i) words[i] = static_cast<Uint16>(static_cast<Sint32>(value_at(i)) & 0xFFFF);
    data->putAndInsertUint16Array(DCM_PixelData, words.data(), static_cast<unsigned long>(values));
  }
  return file;
}

Status write_image(const ImageSpec& spec, const std::filesystem::path& file) {
  if (is_j2k_syntax(spec.transfer_syntax)) return write_j2k_image(spec, J2kOptions{}, file);
  register_encoders();
  auto image = make_image(spec);
  const DcmXfer xfer(spec.transfer_syntax.c_str());
  if (xfer.getXfer() == EXS_Unknown) return make_error("test_setup", "unknown transfer syntax " + spec.transfer_syntax);
  DcmDataset* data = image->getDataset();
  if (xfer.isEncapsulated()) {
    const DJ_RPLossless lossless;
    const DJ_RPLossy lossy(95);
    const DcmRepresentationParameter* parameters = nullptr;
    if (xfer.getXfer() == EXS_JPEGProcess14SV1 || xfer.getXfer() == EXS_JPEGProcess14) parameters = &lossless;
    if (xfer.getXfer() == EXS_JPEGProcess1 || xfer.getXfer() == EXS_JPEGProcess2_4) parameters = &lossy;
    const OFCondition encoded = data->chooseRepresentation(xfer.getXfer(), parameters);
    if (encoded.bad() || !data->canWriteXfer(xfer.getXfer())) {
      return make_error("test_setup", std::string("cannot encode as ") + xfer.getXferName() + ": " + encoded.text());
    }
  }
  const OFCondition saved = image->saveFile(file.c_str(), xfer.getXfer(), EET_ExplicitLength, EGL_recalcGL, EPD_withoutPadding);
  if (saved.bad()) return make_error("test_setup", std::string("cannot save: ") + saved.text());
  return {};
}

const std::vector<TransferSyntaxCase>& decodable_transfer_syntaxes() {
  static const std::vector<TransferSyntaxCase> cases = {
      {"implicit_le", UID_LittleEndianImplicitTransferSyntax, true, true},
      {"explicit_le", UID_LittleEndianExplicitTransferSyntax, true, true},
      {"explicit_be", UID_BigEndianExplicitTransferSyntax, true, true},
      {"deflated", UID_DeflatedExplicitVRLittleEndianTransferSyntax, true, true},
      {"rle", UID_RLELosslessTransferSyntax, true, true},
      {"jpeg_lossless_sv1", UID_JPEGProcess14SV1TransferSyntax, true, true},
      {"jpeg_ls_lossless", UID_JPEGLSLosslessTransferSyntax, true, true},
      {"jpeg_baseline", UID_JPEGProcess1TransferSyntax, false, false},
      {"j2k_lossless", UID_JPEG2000LosslessOnlyTransferSyntax, true, true},
      {"j2k_lossy", UID_JPEG2000TransferSyntax, false, true},
      // HTJ2K syntaxes carrying Part 1 codestreams: Debian's OpenJPEG cannot encode HTJ2K (j2k_fixture.hpp).
      {"htj2k_lossless", "1.2.840.10008.1.2.4.201", true, true, false},
      {"htj2k_lossless_rpcl", "1.2.840.10008.1.2.4.202", true, true, false},
      {"htj2k_lossy", "1.2.840.10008.1.2.4.203", false, true, false},
  };
  return cases;
}

std::vector<TransferSyntaxCase> network_transfer_syntaxes() {
  std::vector<TransferSyntaxCase> cases;
  for (const auto& syntax : decodable_transfer_syntaxes()) {
    if (syntax.over_the_network) cases.push_back(syntax);
  }
  return cases;
}

std::string storescu_proposal_for(const std::string& syntax) {
  if (syntax == UID_LittleEndianImplicitTransferSyntax) return "-xi";
  if (syntax == UID_BigEndianExplicitTransferSyntax) return "-xb";
  if (syntax == UID_DeflatedExplicitVRLittleEndianTransferSyntax) return "-xd";
  if (syntax == UID_RLELosslessTransferSyntax) return "-xr";
  if (syntax == UID_JPEGProcess14SV1TransferSyntax) return "-xs";
  if (syntax == UID_JPEGLSLosslessTransferSyntax) return "-xt";
  if (syntax == UID_JPEGProcess1TransferSyntax) return "-xy";
  if (syntax == UID_JPEG2000LosslessOnlyTransferSyntax) return "-xv";
  if (syntax == UID_JPEG2000TransferSyntax) return "-xw";
  return "-xe";
}

}  // namespace creni::testing
