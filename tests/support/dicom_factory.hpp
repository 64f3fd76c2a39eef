#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "creni/common/result.hpp"

class DcmFileFormat;

namespace creni::testing {

/// What a generated test image looks like. Defaults: a 64x64 12-bit CT slice, one frame, windowed, Explicit VR LE.
struct ImageSpec {
  std::string photometric = "MONOCHROME2";
  int rows = 64;
  int columns = 64;
  int bits_allocated = 16;
  int bits_stored = 12;
  bool is_signed = false;
  int planar_configuration = 0;
  int frames = 1;
  std::optional<std::pair<double, double>> window = std::make_pair(2048.0, 1024.0);  ///< center, width
  double rescale_slope = 1.0;
  double rescale_intercept = 0.0;
  std::string transfer_syntax = "1.2.840.10008.1.2.1";
  std::string sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";  ///< CT Image Storage
  std::string sop_instance_uid;   ///< empty: a fresh one
  std::string study_instance_uid; ///< empty: a fresh one
  std::string series_instance_uid;
  std::string study_description = "CT HEAD";
  std::string series_description = "AXIAL 5mm";
  std::string specific_character_set;
  std::string patient_name = "DOE^JANE";
  /// Stored value of (frame, row, column, sample); default: a gentle gradient around the window's center.
  std::function<int(int, int, int, int)> pixel;
  bool with_pixel_data = true;
};

/// Samples per pixel implied by the photometric interpretation.
int samples_for(const std::string& photometric);

/// The image as an in-memory object (native pixel data, not yet encoded).
std::unique_ptr<DcmFileFormat> make_image(const ImageSpec& spec);

/// Writes the image as a Part 10 file in spec.transfer_syntax (compressing with DCMTK's encoders when needed).
Status write_image(const ImageSpec& spec, const std::filesystem::path& file);

/// The value the default pattern gives at a position (for asserting that untouched pixels are unchanged).
int default_pixel(const ImageSpec& spec, int frame, int row, int column, int sample);

/// A fresh UID under DCMTK's root, for tests.
std::string fresh_uid();

/// Transfer syntaxes the node decodes, each with whether it is lossless and whether it can hold the given bits.
struct TransferSyntaxCase {
  std::string name;
  std::string uid;
  bool lossless;
  bool supports_16_bit;
  bool over_the_network = true;  ///< storescu (DCMTK 3.6.7) can send it (not HTJ2K: see raw_store_scu.hpp)
};
const std::vector<TransferSyntaxCase>& decodable_transfer_syntaxes();
/// The decodable syntaxes that storescu (DCMTK 3.6.7) can send (every one but HTJ2K).
std::vector<TransferSyntaxCase> network_transfer_syntaxes();
/// The storescu option that proposes `transfer_syntax_uid` first, so that storescu sends a file as it is.
std::string storescu_proposal_for(const std::string& transfer_syntax_uid);

inline void PrintTo(const TransferSyntaxCase& syntax, std::ostream* out) { *out << syntax.name; }

}  // namespace creni::testing
