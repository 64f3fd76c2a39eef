#include "creni/process/processing_chain.hpp"

#include "process_one.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include "creni/common/uid.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/output/output_writer.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::process {
namespace {

class ProcessingChainTest : public ::testing::Test {
 protected:
  // Processes `spec` written to a file and returns the saved result loaded back, plus the identities.
  Result<ProcessedFile> process(const testing::ImageSpec& spec, config::ProcessingConfig processing = {}) {
    return process_one(spec, processing, {}, temp_.path(), counter_++);
  }

  dicom::DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-chain"};
  int counter_ = 0;
};

TEST_F(ProcessingChainTest, gives_the_result_new_valid_study_series_and_instance_uids) {
  testing::ImageSpec spec;
  auto outcome = process(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  DcmDataset& data = *outcome->saved->getDataset();
  const auto& source = outcome->processed.source;
  const std::string sop = text_of(data, DCM_SOPInstanceUID);
  const std::string study = text_of(data, DCM_StudyInstanceUID);
  const std::string series = text_of(data, DCM_SeriesInstanceUID);
  for (const auto& value : {sop, study, series}) {
    EXPECT_TRUE(uid::is_valid(value)) << value;
    EXPECT_LE(value.size(), 64u);
  }
  EXPECT_NE(sop, source.sop_instance_uid);
  EXPECT_NE(study, source.study_instance_uid);
  EXPECT_NE(series, source.series_instance_uid);
  EXPECT_EQ(sop, outcome->processed.result.sop_instance_uid);
  EXPECT_EQ(text_of(*outcome->saved->getMetaInfo(), DCM_MediaStorageSOPInstanceUID), sop);
  EXPECT_EQ(text_of(data, DCM_SOPClassUID), source.sop_class_uid);
}

TEST_F(ProcessingChainTest, derives_the_same_uids_when_the_same_image_is_processed_again) {
  testing::ImageSpec spec;
  spec.sop_instance_uid = testing::fresh_uid();
  spec.study_instance_uid = testing::fresh_uid();
  spec.series_instance_uid = testing::fresh_uid();
  auto first = process(spec);
  auto second = process(spec);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->processed.result.sop_instance_uid, second->processed.result.sop_instance_uid);
  EXPECT_EQ(first->processed.result.series_instance_uid, second->processed.result.series_instance_uid);
}

TEST_F(ProcessingChainTest, puts_slices_of_one_series_into_one_derived_series) {
  testing::ImageSpec spec;
  spec.study_instance_uid = testing::fresh_uid();
  spec.series_instance_uid = testing::fresh_uid();
  auto first = process(spec);
  auto second = process(spec);  // another SOP instance of the same series
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_NE(first->processed.result.sop_instance_uid, second->processed.result.sop_instance_uid);
  EXPECT_EQ(first->processed.result.series_instance_uid, second->processed.result.series_instance_uid);
  EXPECT_EQ(first->processed.result.study_instance_uid, second->processed.result.study_instance_uid);
}

TEST_F(ProcessingChainTest, keeps_uids_within_64_chars_even_when_the_originals_are_64_long) {
  testing::ImageSpec spec;
  spec.sop_instance_uid = "1." + std::string(62, '9');
  spec.study_instance_uid = "1.2." + std::string(60, '8');
  auto outcome = process(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_LE(outcome->processed.result.sop_instance_uid.size(), 64u);
  EXPECT_LE(outcome->processed.result.study_instance_uid.size(), 64u);
}

TEST_F(ProcessingChainTest, marks_descriptions_and_the_image_as_derived) {
  testing::ImageSpec spec;
  spec.study_description = std::string(64, 'S');
  auto outcome = process(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  DcmDataset& data = *outcome->saved->getDataset();
  const std::string study = text_of(data, DCM_StudyDescription);
  EXPECT_EQ(study.size(), 64u);
  EXPECT_EQ(study.substr(51), " ScreenedByAI");
  EXPECT_EQ(text_of(data, DCM_SeriesDescription), "AXIAL 5mm ScreenedByAI");
  EXPECT_EQ(text_of(data, DCM_ImageType), "DERIVED\\SECONDARY\\AXIAL");
  EXPECT_EQ(text_of(data, DCM_BurnedInAnnotation), "YES");
  DcmItem* reference = nullptr;
  ASSERT_TRUE(data.findAndGetSequenceItem(DCM_SourceImageSequence, reference, 0).good());
  EXPECT_EQ(text_of(*reference, DCM_ReferencedSOPInstanceUID), outcome->processed.source.sop_instance_uid);
  EXPECT_EQ(text_of(*reference, DCM_ReferencedSOPClassUID), outcome->processed.source.sop_class_uid);
  EXPECT_EQ(text_of(data, DCM_PatientName), "DOE^JANE");
}

TEST_F(ProcessingChainTest, runs_only_the_configured_steps) {
  testing::ImageSpec spec;
  config::ProcessingConfig only_describe;
  only_describe.steps = {"describe"};
  auto outcome = process(spec, only_describe);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  DcmDataset& data = *outcome->saved->getDataset();
  EXPECT_EQ(text_of(data, DCM_StudyDescription), "CT HEAD ScreenedByAI");
  EXPECT_FALSE(data.tagExists(DCM_BurnedInAnnotation));
}

TEST_F(ProcessingChainTest, writes_compressed_input_uncompressed_even_without_a_pixel_step) {
  testing::ImageSpec spec;
  spec.transfer_syntax = UID_JPEGLSLosslessTransferSyntax;
  config::ProcessingConfig only_describe;
  only_describe.steps = {"describe"};
  auto outcome = process(spec, only_describe);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  EXPECT_EQ(text_of(*outcome->saved->getMetaInfo(), DCM_TransferSyntaxUID), UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(outcome->saved->getDataset()->getOriginalXfer(), EXS_LittleEndianExplicit);
}

TEST_F(ProcessingChainTest, records_lossy_compression_of_the_source) {
  testing::ImageSpec spec;
  spec.bits_allocated = 8;
  spec.bits_stored = 8;
  spec.window = std::make_pair(128.0, 256.0);
  spec.transfer_syntax = UID_JPEGProcess1TransferSyntax;
  auto outcome = process(spec);
  ASSERT_TRUE(outcome.ok()) << outcome.error().describe();
  DcmDataset& data = *outcome->saved->getDataset();
  EXPECT_EQ(text_of(data, DCM_LossyImageCompression), "01");
  EXPECT_NE(text_of(data, DCM_LossyImageCompressionMethod).find("ISO_10918_1"), std::string::npos);
}

TEST_F(ProcessingChainTest, rejects_a_non_image_unless_configured_to_pass_it) {
  testing::ImageSpec spec;
  spec.with_pixel_data = false;
  spec.sop_class_uid = UID_BasicTextSRStorage;
  auto rejected = process(spec);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, "not_an_image");

  config::ProcessingConfig pass;
  pass.non_image = config::NonImagePolicy::pass;
  auto passed = process(spec, pass);
  ASSERT_TRUE(passed.ok()) << passed.error().describe();
  EXPECT_EQ(text_of(*passed->saved->getDataset(), DCM_StudyDescription), "CT HEAD ScreenedByAI");
  EXPECT_FALSE(passed->saved->getDataset()->tagExists(DCM_BurnedInAnnotation));

  config::ProcessingConfig ignore;
  ignore.non_image = config::NonImagePolicy::ignore;
  auto ignored = process(spec, ignore);
  ASSERT_FALSE(ignored.ok());
  EXPECT_EQ(ignored.error().code, "ignored");
  EXPECT_NE(ignored.error().message.find(UID_BasicTextSRStorage), std::string::npos) << ignored.error().message;
}

TEST_F(ProcessingChainTest, rejects_an_image_larger_than_the_configured_cap_before_decoding) {
  testing::ImageSpec spec;
  config::ProcessingConfig small;
  small.max_image_bytes = 4096;  // the 64x64 16-bit image holds 8192 bytes
  auto outcome = process(spec, small);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error().code, "image_too_large");
}

TEST_F(ProcessingChainTest, refuses_to_build_with_a_step_it_cannot_run) {
  config::ProcessingConfig processing;
  processing.steps = {"describe", "infer"};
  config::InferenceConfig no_model;
  auto chain = ProcessingChain::build(processing, no_model);
  ASSERT_FALSE(chain.ok());
  EXPECT_EQ(chain.error().code, "invalid_config");
}

}  // namespace
}  // namespace creni::process
