// Real sites' formats end to end (issue 15), against the built binary: every decodable transfer syntax through the
// folder door and (where DCMTK can send it) the network door, each result checked by dicom3tools' dciodvfy and
// by decoding it again.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "raw_store_scu.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;
using testing::ImageSpec;

// dciodvfy's "Error" lines (the factory's images lack attributes no processing adds, e.g. PatientSex: the
// comparison is against the uncompressed reference's own errors).
std::set<std::string> dciodvfy_errors(const std::filesystem::path& file) {
  const auto result = harness::run_command({harness::find_program("dciodvfy"), file.string()}, 60s);
  std::set<std::string> errors;
  std::istringstream lines(result.out + result.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Error", 0) == 0) errors.insert(line);
  }
  return errors;
}

// The result again through the node's own loader and pixel checks: uncompressed and exactly as long as declared.
std::string decode_again(const std::filesystem::path& file) {
  auto instance = dicom::Instance::load(file);
  if (!instance) return instance.error().describe();
  if (instance->identity().transfer_syntax_uid != UID_LittleEndianExplicitTransferSyntax) return "not explicit LE";
  auto module = dicom::read_pixel_module(instance->dataset(), 1ULL << 30);
  if (!module) return module.error().describe();
  if (Status length = dicom::check_native_pixel_length(instance->dataset(), module.value()); !length) {
    return length.error().describe();
  }
  return "";
}

// The image kinds each syntax is tried with; a result is compared with the uncompressed one of the same kind.
struct Kind {
  std::string photometric;
  int bits;
};
const std::vector<Kind> kKinds = {{"MONOCHROME2", 16}, {"MONOCHROME2", 8}, {"RGB", 8}};

std::string kind_name(const Kind& kind) { return kind.photometric + std::to_string(kind.bits); }

ImageSpec spec_for(const testing::TransferSyntaxCase& syntax, const Kind& kind) {
  ImageSpec spec;
  spec.transfer_syntax = syntax.uid;
  spec.photometric = kind.photometric;
  spec.series_description = syntax.name + "_" + kind_name(kind);
  spec.sop_instance_uid = testing::fresh_uid();
  if (kind.bits == 8) {
    spec.bits_allocated = 8;
    spec.bits_stored = 8;
    spec.window = std::make_pair(128.0, 256.0);
  }
  return spec;
}

// Checks every result against the one made from uncompressed input of the same kind ("explicit_le_<kind>").
void expect_valid_results(NodeUnderTest& node, std::size_t expected) {
  std::map<std::string, std::filesystem::path> by_name;
  for (const auto& output : node.outputs()) {
    std::string name = tag_of(output, DCM_SeriesDescription);
    name = name.substr(0, name.find(' '));
    by_name[name] = output;
  }
  ASSERT_EQ(by_name.size(), expected);
  for (const auto& [name, output] : by_name) {
    const auto reference = by_name.find("explicit_le_" + name.substr(name.rfind('_') + 1));
    ASSERT_NE(reference, by_name.end());
    const std::set<std::string> allowed = dciodvfy_errors(reference->second);
    for (const auto& error : dciodvfy_errors(output)) {
      EXPECT_TRUE(allowed.count(error) != 0) << name << ": " << error;
    }
    EXPECT_EQ(decode_again(output), "") << name;
    EXPECT_EQ(tag_of(output, DCM_BurnedInAnnotation), "YES") << name;
  }
}

// Writes every kind of image in each of `syntaxes` (those `wanted`) and hands each file to `deliver`; returns how
// many were delivered.
template <typename Wanted, typename Deliver>
std::size_t deliver_each(const std::vector<testing::TransferSyntaxCase>& syntaxes, const std::filesystem::path& staging,
                         Wanted wanted, Deliver deliver) {
  std::size_t count = 0;
  for (const Kind& kind : kKinds) {
    for (const auto& syntax : syntaxes) {
      if (!wanted(syntax, kind)) continue;
      const ImageSpec spec = spec_for(syntax, kind);
      const auto file = staging / (spec.series_description + ".dcm");
      EXPECT_TRUE(testing::write_image(spec, file).ok()) << spec.series_description;
      deliver(syntax, file);
      ++count;
    }
  }
  return count;
}

// Starts a node, hands it every kind of image in each wanted syntax through `deliver(node, syntax, file)`, and checks
// that every one is written validly and nothing is rejected.
template <typename Wanted, typename Deliver>
void expect_every_result_valid(Wanted wanted, Deliver deliver) {
  dicom::DcmtkRuntime runtime;
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const std::size_t count =
      deliver_each(testing::decodable_transfer_syntaxes(), staging.path(), wanted,
                   [&](const auto& syntax, const std::filesystem::path& file) { deliver(node, syntax, file); });
  ASSERT_GT(count, 0U);
  ASSERT_TRUE(node.wait_for_state("written", static_cast<long>(count), 120s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
  expect_valid_results(node, count);
}

TEST(FormatsFolderDoor, every_decodable_syntax_gives_a_valid_uncompressed_result) {
  expect_every_result_valid(
      [](const auto& syntax, const Kind& kind) { return kind.bits == 8 || syntax.supports_16_bit; },
      [](NodeUnderTest& node, const auto&, const std::filesystem::path& file) {
        std::filesystem::rename(file, node.input() / "gateway_1" / file.filename());
      });
}

// A Parametric Map (PS3.3 section A.75) with Float (OF, 32-bit) or Double Float (OD, 64-bit) Pixel Data, two frames
// of values from -2.5 to 7.25 (the second frame doubled), written by pydicom: argv = output file, "float"|"double".
constexpr const char* kFloatMapScript = R"(import sys, struct, math
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
out, kind = sys.argv[1], sys.argv[2]
rows, cols, frames = 64, 48, 2
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.30"
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.is_little_endian = True
ds.is_implicit_VR = False
ds.SOPClassUID = meta.MediaStorageSOPClassUID
ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
ds.StudyInstanceUID = generate_uid()
ds.SeriesInstanceUID = generate_uid()
ds.Modality = "MR"
ds.PatientName = "FLOAT^MAP"
ds.PatientID = "F1"
ds.StudyDescription = "float study"
ds.SeriesDescription = "float_" + kind
ds.ImageType = ["DERIVED", "PRIMARY"]
ds.Rows, ds.Columns = rows, cols
ds.NumberOfFrames = frames
ds.SamplesPerPixel = 1
ds.PhotometricInterpretation = "MONOCHROME2"
values = [(-2.5 + 9.75 * ((r * cols + c) % 97) / 96.0) * (f + 1) for f in range(frames) for r in range(rows) for c in range(cols)]
if kind == "float":
    ds.BitsAllocated = 32
    ds.FloatPixelData = struct.pack("<%df" % len(values), *values)
else:
    ds.BitsAllocated = 64
    ds.DoubleFloatPixelData = struct.pack("<%dd" % len(values), *values)
ds.save_as(out, write_like_original=False)
)";

// Every frame's samples as doubles, from Float or Double Float Pixel Data.
std::vector<std::vector<double>> float_frames(const std::filesystem::path& file, std::size_t frames) {
  auto instance = dicom::Instance::load(file);
  if (!instance) return {};
  std::vector<double> all;
  const Float32* floats = nullptr;
  const Float64* doubles = nullptr;
  unsigned long count = 0;
  if (instance->dataset().findAndGetFloat32Array(DCM_FloatPixelData, floats, &count).good()) {
    all.assign(floats, floats + count);
  } else if (instance->dataset().findAndGetFloat64Array(DCM_DoubleFloatPixelData, doubles, &count).good()) {
    all.assign(doubles, doubles + count);
  }
  std::vector<std::vector<double>> split(frames);
  for (std::size_t i = 0; i < all.size(); ++i) split[i * frames / all.size()].push_back(all[i]);
  return split;
}

// Float and Double Float Pixel Data through the folder door: the text is burned in at each frame's own maximum and
// the result keeps its float pixel data, valid for dciodvfy and readable again.
TEST(FormatsFolderDoor, float_pixel_data_stays_float_with_the_text_at_each_frames_maximum) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  {
    std::ofstream out(staging / "make_float.py");
    out << kFloatMapScript;
  }
  std::map<std::string, std::filesystem::path> inputs;
  for (const std::string kind : {"float", "double"}) {
    const auto file = staging / (kind + ".dcm");
    const auto made = harness::run_command({"/usr/bin/python3", (staging / "make_float.py").string(), file.string(), kind});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    inputs["float_" + kind] = staging / (kind + "-input.dcm");
    std::filesystem::copy_file(file, inputs["float_" + kind]);
    std::filesystem::rename(file, node.input() / "gateway_1" / file.filename());
  }
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
  const auto outputs = node.outputs();
  ASSERT_EQ(outputs.size(), 2U);
  for (const auto& output : outputs) {
    std::string name = tag_of(output, DCM_SeriesDescription);
    name = name.substr(0, name.find(' '));
    ASSERT_EQ(inputs.count(name), 1U) << name;
    const auto& input = inputs[name];
    std::set<std::string> allowed = dciodvfy_errors(input);
    // The node's derivation marks every result DERIVED\SECONDARY with BurnedInAnnotation YES, which is what was
    // done to it; the Parametric Map IOD enumerates only PRIMARY and NO there (README "Formats").
    allowed.insert("Error - Unrecognized enumerated value <SECONDARY> for value 2 of attribute <Image Type>");
    allowed.insert("Error - Unrecognized enumerated value <YES> for value 1 of attribute <Burned In Annotation>");
    for (const auto& error : dciodvfy_errors(output)) EXPECT_TRUE(allowed.count(error) != 0) << name << ": " << error;
    EXPECT_EQ(tag_of(output, DCM_BitsAllocated), name == "float_float" ? "32" : "64");
    EXPECT_EQ(tag_of(output, DCM_BurnedInAnnotation), "YES");
    auto loaded = dicom::Instance::load(output);
    ASSERT_TRUE(loaded.ok());
    EXPECT_FALSE(loaded->dataset().tagExists(DCM_PixelData)) << name;
    auto module = dicom::read_pixel_module(loaded->dataset(), 1ULL << 30);
    ASSERT_TRUE(module.ok()) << module.error().describe();
    EXPECT_TRUE(dicom::check_native_pixel_length(loaded->dataset(), module.value()).ok()) << name;
    const auto before = float_frames(input, 2);
    const auto after = float_frames(output, 2);
    ASSERT_EQ(after.size(), 2U);
    for (std::size_t frame = 0; frame < 2; ++frame) {
      ASSERT_EQ(after[frame].size(), before[frame].size()) << name;
      const double top = *std::max_element(before[frame].begin(), before[frame].end());
      EXPECT_EQ(*std::max_element(after[frame].begin(), after[frame].end()), top) << name << " frame " << frame;
      const auto at_top = [top](const std::vector<double>& v) { return std::count(v.begin(), v.end(), top); };
      EXPECT_GT(at_top(after[frame]), at_top(before[frame]) + 20) << name << " frame " << frame << ": no text drawn";
    }
  }
}

TEST(FormatsNetworkDoor, jpeg_2000_sent_with_storescu_gives_a_valid_uncompressed_result) {
  expect_every_result_valid(
      [](const auto& syntax, const Kind&) {
        return syntax.over_the_network && (syntax.name == "explicit_le" || syntax.name.rfind("j2k", 0) == 0);
      },
      [](NodeUnderTest& node, const auto& syntax, const std::filesystem::path& file) {
        const auto sent = harness::run_command({harness::find_program("storescu"), "-R",
                                                testing::storescu_proposal_for(syntax.uid), "-aet", "GATEWAY_1",
                                                "-aec", "CRENI", "127.0.0.1", std::to_string(node.port()),
                                                file.string()});
        EXPECT_EQ(sent.exit_code, 0) << file.filename() << ": " << sent.err;
      });
}

// HTJ2K, which storescu cannot send, from an SCU that sends the data set bytes as they are (raw_store_scu).
TEST(FormatsNetworkDoor, htj2k_received_by_the_scp_gives_a_valid_uncompressed_result) {
  expect_every_result_valid(
      [](const auto& syntax, const Kind&) { return syntax.name == "explicit_le" || !syntax.over_the_network; },
      [](NodeUnderTest& node, const auto& syntax, const std::filesystem::path& file) {
        const auto sent = testing::store_raw(node.port(), "GATEWAY_1", "CRENI", UID_CTImageStorage,
                                             tag_of(file, DCM_SOPInstanceUID), {syntax.uid}, file);
        EXPECT_EQ(sent.accepted_syntax, syntax.uid) << file.filename();
        EXPECT_EQ(sent.status, 0) << file.filename() << node.log();
      });
}

// [processing] non_image at the network door, with a Siemens CSA non-image object (private SOP class) and an SR.
struct NonImageSent {
  int csa_exit = -1;
  int sr_exit = -1;
  std::string sr_output;  // storescu's own report (-v): the status the node answered
  std::string csa_sop;
  std::string sr_sop;
};

NonImageSent send_non_images(NodeUnderTest& node, const std::filesystem::path& staging) {
  NonImageSent sent;
  ImageSpec csa;
  csa.with_pixel_data = false;
  csa.sop_class_uid = "1.3.12.2.1107.5.9.1";  // Siemens CSA Non-Image Storage
  csa.sop_instance_uid = sent.csa_sop = testing::fresh_uid();
  ImageSpec sr = csa;
  sr.sop_class_uid = UID_BasicTextSRStorage;
  sr.sop_instance_uid = sent.sr_sop = testing::fresh_uid();
  // storescu proposes a SOP class it does not know only from a configuration file's profile.
  const auto profile = staging / "private.cfg";
  {
    std::ofstream out(profile);
    out << "[[TransferSyntaxes]]\n[LE]\nTransferSyntax1 = 1.2.840.10008.1.2.1\n"
        << "[[PresentationContexts]]\n[CSA]\nPresentationContext1 = 1.3.12.2.1107.5.9.1\\LE\n"
        << "[[Profiles]]\n[CSA]\nPresentationContexts = CSA\n";
  }
  const auto run = [&](const ImageSpec& spec, const std::string& name, std::vector<std::string> proposal) {
    const auto file = staging / name;
    EXPECT_TRUE(testing::write_image(spec, file).ok());
    std::vector<std::string> argv = {harness::find_program("storescu")};
    argv.insert(argv.end(), proposal.begin(), proposal.end());
    argv.insert(argv.end(),
                {"-v", "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1", std::to_string(node.port()), file.string()});
    return harness::run_command(argv);
  };
  sent.csa_exit = run(csa, "csa.dcm", {"-xf", profile.string(), "CSA"}).exit_code;
  const auto sr_run = run(sr, "sr.dcm", {"-R"});
  sent.sr_exit = sr_run.exit_code;
  sent.sr_output = sr_run.out + sr_run.err;
  return sent;
}

std::string journal_reason_of(const NodeUnderTest& node, const std::string& sop) {
  return harness::run_command({"sqlite3", "-readonly", (node.state() / "journal.db").string(),
                               "SELECT DISTINCT state || ':' || reason FROM jobs WHERE sop_instance_uid = '" + sop + "'"})
      .out;
}

// Gateway 1's own policy: the node-wide one ([processing] non_image) stays "reject".
TEST(FormatsNonImage, a_gateway_set_to_ignore_accepts_private_classes_and_stores_nothing_but_the_record) {
  NodeUnderTest::Settings settings;
  settings.gateway_1 = "non_image = \"ignore\"\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const NonImageSent sent = send_non_images(node, staging.path());
  EXPECT_EQ(sent.csa_exit, 0) << node.log();
  EXPECT_EQ(sent.sr_exit, 0) << node.log();
  ASSERT_TRUE(node.wait_for_state("rejected", 2, 60s)) << node.status_json();
  EXPECT_EQ(journal_reason_of(node, sent.csa_sop), "rejected:ignored\n");
  EXPECT_EQ(journal_reason_of(node, sent.sr_sop), "rejected:ignored\n");
  EXPECT_NE(node.status_json().find("\"reason\":\"ignored\""), std::string::npos) << node.status_json();
  EXPECT_TRUE(node.outputs().empty());
  EXPECT_TRUE(harness::files_below(node.state() / "quarantine").empty());
}

TEST(FormatsNonImage, pass_writes_a_private_non_image_object_with_new_uids) {
  NodeUnderTest::Settings settings;
  settings.tables = "[processing]\nnon_image = \"pass\"\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const NonImageSent sent = send_non_images(node, staging.path());
  EXPECT_EQ(sent.csa_exit, 0) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json();
  const auto outputs = node.outputs();
  ASSERT_EQ(outputs.size(), 2U);
  for (const auto& output : outputs) {
    EXPECT_NE(tag_of(output, DCM_SOPInstanceUID), sent.csa_sop);
    EXPECT_NE(tag_of(output, DCM_SeriesDescription).find("ScreenedByAI"), std::string::npos);
  }
}

// "reject" is said to the sender: a private class has no presentation context, a standard non-image class gets
// 0x0122 (SOP Class not supported) with an Error Comment, recorded before the answer, never success.
TEST(FormatsNonImage, reject_refuses_private_classes_at_negotiation_and_standard_ones_with_a_failure_status) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const NonImageSent sent = send_non_images(node, staging.path());
  EXPECT_NE(sent.csa_exit, 0);  // no presentation context: the sender knows at once
  EXPECT_NE(sent.sr_output.find("Received Store Response (Refused: SOPClassNotSupported)"), std::string::npos)
      << sent.sr_output;
  EXPECT_EQ(sent.sr_output.find("Success"), std::string::npos) << sent.sr_output;
  // Recorded before the answer: no waiting for a worker.
  EXPECT_EQ(journal_reason_of(node, sent.sr_sop), "rejected:not_an_image\n");
  EXPECT_EQ(journal_reason_of(node, sent.csa_sop), "");
  EXPECT_NE(node.status_json().find("not_an_image"), std::string::npos) << node.status_json();
  EXPECT_EQ(harness::files_below(node.state() / "quarantine").size(), 1U);
  EXPECT_NE(node.log().find("0x0122 (not an image: SOP Class 1.2.840.10008.5.1.4.1.1.88.11)"), std::string::npos)
      << node.log();
}

// The folder door decides the same way, at the door: an SR dropped into INPUT is recorded rejected, nothing written.
TEST(FormatsNonImage, reject_records_a_non_image_dropped_into_the_folder_without_processing_it) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  ImageSpec sr;
  sr.with_pixel_data = false;
  sr.sop_class_uid = UID_KeyObjectSelectionDocumentStorage;
  sr.sop_instance_uid = testing::fresh_uid();
  harness::TempDir staging;
  ASSERT_TRUE(testing::write_image(sr, staging / "ko.dcm").ok());
  std::filesystem::rename(staging / "ko.dcm", node.input() / "gateway_1" / "ko.dcm");
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 60s)) << node.status_json();
  EXPECT_EQ(journal_reason_of(node, sr.sop_instance_uid), "rejected:not_an_image\n");
  EXPECT_NE(node.status_json().find("not_an_image"), std::string::npos) << node.status_json();
  EXPECT_NE(node.log().find("rejected: not_an_image (not an image: SOP Class " UID_KeyObjectSelectionDocumentStorage),
            std::string::npos)
      << node.log();
  EXPECT_TRUE(node.outputs().empty());
}

}  // namespace
}  // namespace creni::testing
