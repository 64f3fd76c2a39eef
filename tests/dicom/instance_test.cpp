// Every way an input can fail to become an image ends as a typed error with a reason, never a crash.
#include "creni/dicom/instance.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <fstream>

#include "creni/config/node_config.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "creni/process/processing_chain.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::dicom {
namespace {

class InstanceErrors : public ::testing::Test {
 protected:
  std::filesystem::path file_with(const std::string& name, const std::string& bytes) {
    const auto path = temp_.path() / name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  std::filesystem::path image(const std::string& name, const testing::ImageSpec& spec = {}) {
    const auto path = temp_.path() / name;
    EXPECT_TRUE(testing::write_image(spec, path).ok());
    return path;
  }

  // The error code of loading and processing `file` with the default chain, or "ok".
  std::string outcome_of(const std::filesystem::path& file, config::ProcessingConfig processing = {}) {
    auto instance = Instance::load(file);
    if (!instance) return instance.error().code;
    auto chain = process::ProcessingChain::build(processing, {});
    auto processed = chain->run(instance.value());
    return processed ? "ok" : processed.error().code;
  }

  DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-instance"};
};

TEST_F(InstanceErrors, an_empty_file_is_not_dicom) { EXPECT_EQ(outcome_of(file_with("empty", "")), "not_dicom"); }

TEST_F(InstanceErrors, a_text_file_is_not_dicom) {
  EXPECT_EQ(outcome_of(file_with("notes.txt", "Patient list, do not share\n")), "not_dicom");
}

TEST_F(InstanceErrors, dicm_followed_by_garbage_is_refused_with_a_reason) {
  std::string bytes(128, '\0');
  bytes += "DICM";
  for (int i = 0; i < 4096; ++i) bytes += static_cast<char>((i * 7919) % 251);
  const std::string code = outcome_of(file_with("garbage.dcm", bytes));
  EXPECT_TRUE(code == "malformed_dicom" || code == "truncated" || code == "invalid_uid" || code == "not_dicom") << code;
}

TEST_F(InstanceErrors, a_file_cut_inside_the_pixel_data_is_truncated) {
  const auto whole = image("whole.dcm");
  std::string bytes = harness::read_file(whole);
  bytes.resize(bytes.size() - 1000);
  EXPECT_EQ(outcome_of(file_with("cut.dcm", bytes)), "truncated");
}

TEST_F(InstanceErrors, an_invalid_sop_instance_uid_is_refused) {
  testing::ImageSpec spec;
  spec.sop_instance_uid = "1.2.03.4";  // a leading zero in a component (PS3.5 section 9.1)
  EXPECT_EQ(outcome_of(image("bad-uid.dcm", spec)), "invalid_uid");
}

TEST_F(InstanceErrors, rows_without_pixel_data_is_missing_pixel_data) {
  auto file = testing::make_image({});
  file->getDataset()->findAndDeleteElement(DCM_PixelData);
  const auto path = temp_.path() / "no-pixels.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  EXPECT_EQ(outcome_of(path), "missing_pixel_data");
}

TEST_F(InstanceErrors, pixel_data_shorter_than_the_module_declares_is_inconsistent) {
  auto file = testing::make_image({});
  file->getDataset()->putAndInsertUint16(DCM_Rows, 128);  // declares twice the rows the pixel data holds
  const auto path = temp_.path() / "short.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  EXPECT_EQ(outcome_of(path), "invalid_pixel_module");
}

TEST_F(InstanceErrors, pixel_data_longer_than_declared_is_accepted_and_trimmed) {
  auto file = testing::make_image({});
  file->getDataset()->putAndInsertUint16(DCM_Rows, 32);  // declares half the rows: the rest is trailing padding
  const auto path = temp_.path() / "padded.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  auto instance = Instance::load(path);
  ASSERT_TRUE(instance.ok());
  auto chain = process::ProcessingChain::build({}, {});
  ASSERT_TRUE(chain->run(instance.value()).ok());
  DcmElement* pixels = nullptr;
  ASSERT_TRUE(instance->dataset().findAndGetElement(DCM_PixelData, pixels).good());
  EXPECT_EQ(pixels->getLength(), 32U * 64U * 2U);
}

TEST_F(InstanceErrors, an_absurd_declared_size_is_refused_before_decoding) {
  auto file = testing::make_image({});
  file->getDataset()->putAndInsertUint16(DCM_Rows, 65535);
  file->getDataset()->putAndInsertUint16(DCM_Columns, 65535);
  file->getDataset()->putAndInsertString(DCM_NumberOfFrames, "99999");
  const auto path = temp_.path() / "huge.dcm";
  ASSERT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  EXPECT_EQ(outcome_of(path), "image_too_large");
}

// A JPEG-LS file whose meta header names another syntax of the same UID length: the file stays well-formed.
std::string relabelled(const std::string& file_bytes, const std::string& to) {
  std::string bytes = file_bytes;
  const std::string from = UID_JPEGLSLosslessTransferSyntax;
  if (from.size() != to.size()) return {};
  const auto at = bytes.find(from);
  if (at == std::string::npos) return {};
  return bytes.replace(at, from.size(), to);
}

TEST_F(InstanceErrors, jpeg_2000_part_2_is_refused_as_an_unsupported_transfer_syntax) {
  testing::ImageSpec spec;
  spec.transfer_syntax = UID_JPEGLSLosslessTransferSyntax;
  const std::string bytes = relabelled(harness::read_file(image("jpeg-ls.dcm", spec)),
                                       UID_JPEG2000Part2MulticomponentImageCompressionLosslessOnlyTransferSyntax);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(outcome_of(file_with("j2k-part2.dcm", bytes)), "unsupported_ts");
}

TEST_F(InstanceErrors, a_jpeg_ls_stream_declared_jpeg_2000_is_a_decode_failure_never_an_output) {
  testing::ImageSpec spec;
  spec.transfer_syntax = UID_JPEGLSLosslessTransferSyntax;
  const std::string bytes =
      relabelled(harness::read_file(image("jpeg-ls.dcm", spec)), UID_JPEG2000LosslessOnlyTransferSyntax);
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(outcome_of(file_with("j2k.dcm", bytes)), "decode_failed");
}

TEST_F(InstanceErrors, a_tiny_8x8_image_is_processed_without_crashing) {
  testing::ImageSpec spec;
  spec.rows = 8;
  spec.columns = 8;
  EXPECT_EQ(outcome_of(image("tiny.dcm", spec)), "ok");
}

TEST(Part10Meta, reads_the_identity_from_the_meta_header_only) {
  const DcmtkRuntime runtime;
  harness::TempDir temp;
  testing::ImageSpec spec;
  spec.sop_instance_uid = testing::fresh_uid();
  spec.transfer_syntax = UID_RLELosslessTransferSyntax;
  ASSERT_TRUE(testing::write_image(spec, temp / "rle.dcm").ok());
  auto meta = read_meta_identity(temp / "rle.dcm");
  ASSERT_TRUE(meta.ok()) << meta.error().describe();
  EXPECT_EQ(meta->media_storage_sop_instance_uid, spec.sop_instance_uid);
  EXPECT_EQ(meta->transfer_syntax_uid, UID_RLELosslessTransferSyntax);
  EXPECT_EQ(meta->media_storage_sop_class_uid, spec.sop_class_uid);
}

TEST(Part10Meta, refuses_files_without_a_meta_header) {
  harness::TempDir temp;
  std::ofstream(temp / "text") << "hello";
  auto meta = read_meta_identity(temp / "text");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, "not_part10");
}

TEST(Part10Meta, refuses_a_meta_element_that_overruns_the_file) {
  harness::TempDir temp;
  std::string bytes(128, '\0');
  bytes += "DICM";
  bytes += std::string("\x02\x00\x10\x00UI\xFF\x00", 8);  // a 255-byte value that is not there
  bytes += "1.2";
  std::ofstream(temp / "overrun", std::ios::binary) << bytes;
  auto meta = read_meta_identity(temp / "overrun");
  ASSERT_FALSE(meta.ok());
  EXPECT_EQ(meta.error().code, "malformed_meta");
}

}  // namespace
}  // namespace creni::dicom
