#include "creni/dicom/dataset_identity.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <fstream>

#include "dicom_factory.hpp"
#include "harness.hpp"

namespace creni::dicom {
namespace {

class DatasetIdentityTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const testing::ImageSpec& spec, const std::string& name) {
    const auto path = temp_ / name;
    EXPECT_TRUE(testing::write_image(spec, path).ok());
    return path;
  }

  // An image with a sequence before the SOP UIDs, written with the given sequence length encoding.
  std::filesystem::path with_leading_sequence(E_EncodingType encoding, const std::string& instance) {
    testing::ImageSpec spec;
    spec.sop_instance_uid = instance;
    auto image = testing::make_image(spec);
    auto* sequence = new DcmSequenceOfItems(DcmTag(0x0008, 0x0006));  // Language Code Sequence
    auto* item = new DcmItem();
    item->putAndInsertString(DCM_CodeValue, "en");
    sequence->insert(item);
    image->getDataset()->insert(sequence);
    const auto path = temp_ / "sequence.dcm";
    EXPECT_TRUE(image->saveFile(path.c_str(), EXS_LittleEndianExplicit, encoding).good());
    return path;
  }

  harness::TempDir temp_{"creni-identity"};
};

TEST_F(DatasetIdentityTest, reads_the_sop_uids_in_every_uncompressed_and_deflated_syntax) {
  for (const char* syntax : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                             UID_BigEndianExplicitTransferSyntax, UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                             UID_RLELosslessTransferSyntax}) {
    testing::ImageSpec spec;
    spec.transfer_syntax = syntax;
    spec.sop_instance_uid = testing::fresh_uid();
    const auto identity = read_dataset_identity(write(spec, "image.dcm"));
    ASSERT_TRUE(identity.ok()) << syntax << ": " << identity.error().describe();
    EXPECT_EQ(identity->sop_class_uid, spec.sop_class_uid) << syntax;
    EXPECT_EQ(identity->sop_instance_uid, spec.sop_instance_uid) << syntax;
  }
}

TEST_F(DatasetIdentityTest, skips_a_sequence_of_defined_length_before_the_uids) {
  const std::string instance = testing::fresh_uid();
  const auto identity = read_dataset_identity(with_leading_sequence(EET_ExplicitLength, instance));
  ASSERT_TRUE(identity.ok()) << identity.error().describe();
  EXPECT_EQ(identity->sop_instance_uid, instance);
}

TEST_F(DatasetIdentityTest, gives_up_on_a_sequence_of_undefined_length_before_the_uids) {
  const auto identity = read_dataset_identity(with_leading_sequence(EET_UndefinedLength, testing::fresh_uid()));
  ASSERT_FALSE(identity.ok());
  EXPECT_EQ(identity.error().code, "undetermined");
}

TEST_F(DatasetIdentityTest, reports_empty_uids_when_the_data_set_has_none) {
  DcmFileFormat format;
  format.getDataset()->putAndInsertString(DCM_PatientName, "DOE^JANE");
  const auto path = temp_ / "no-uids.dcm";
  ASSERT_TRUE(format.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
  const auto identity = read_dataset_identity(path);
  ASSERT_TRUE(identity.ok()) << identity.error().describe();
  EXPECT_TRUE(identity->sop_instance_uid.empty());
}

TEST_F(DatasetIdentityTest, refuses_files_that_are_not_part_10_or_are_cut_short) {
  const auto text = temp_ / "text.dcm";
  std::ofstream(text) << "not dicom at all";
  EXPECT_EQ(read_dataset_identity(text).error().code, "not_part10");

  const auto whole = harness::read_file(write({}, "whole.dcm"));
  const auto meta_end = whole.find(std::string("\x08\x00", 2), 132);  // first group 0008 tag after the meta
  ASSERT_NE(meta_end, std::string::npos);
  const auto cut = temp_ / "cut.dcm";
  std::ofstream(cut, std::ios::binary) << whole.substr(0, meta_end + 10);
  EXPECT_EQ(read_dataset_identity(cut).error().code, "malformed");
}

}  // namespace
}  // namespace creni::dicom
