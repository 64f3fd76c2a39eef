// The identity a job carries is the data set's own, and the bytes parsed are the bytes hashed: a file rewritten
// after loading changes nothing in the loaded instance.
#include "creni/dicom/identity_check.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <gtest/gtest.h>

#include <fstream>

#include "creni/common/content_hash.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::dicom {
namespace {

class IdentityCheck : public ::testing::Test {
 protected:
  std::filesystem::path save(std::unique_ptr<DcmFileFormat> file, const std::string& name, E_FileWriteMode mode) {
    const auto path = temp_.path() / name;
    EXPECT_TRUE(file->saveFile(path.c_str(), EXS_LittleEndianExplicit, EET_ExplicitLength, EGL_recalcGL, EPD_noChange,
                               0, 0, mode)
                    .good());
    return path;
  }

  static testing::ImageSpec spec_with_pixel(int value) {
    testing::ImageSpec spec;
    spec.pixel = [value](int, int, int, int) { return value; };
    return spec;
  }

  DcmtkRuntime runtime_;
  harness::TempDir temp_{"creni-identity"};
};

int first_pixel(Instance& instance) {
  const Uint16* pixels = nullptr;
  unsigned long count = 0;
  if (instance.dataset().findAndGetUint16Array(DCM_PixelData, pixels, &count).bad() || count == 0) return -1;
  return pixels[0];
}

TEST_F(IdentityCheck, the_loaded_hash_is_the_arrival_hash_of_the_data_set) {
  const auto path = save(testing::make_image(spec_with_pixel(7)), "a.dcm", EWM_fileformat);
  auto instance = Instance::load(path);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  auto meta = read_meta_identity(path);
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(instance->content_hash(), sha256_of_file(path, meta->dataset_offset).value());

  const auto bare = save(testing::make_image(spec_with_pixel(7)), "bare", EWM_dataset);
  auto without_meta = Instance::load(bare);
  ASSERT_TRUE(without_meta.ok()) << without_meta.error().describe();
  EXPECT_FALSE(without_meta->meta().has_value());
  EXPECT_EQ(without_meta->content_hash(), sha256_of_file(bare).value());
}

TEST_F(IdentityCheck, a_file_rewritten_after_loading_does_not_change_the_loaded_pixels) {
  // Large enough that DCMTK would otherwise leave the pixel data on disk until first use.
  testing::ImageSpec first = spec_with_pixel(100);
  first.rows = first.columns = 256;
  testing::ImageSpec second = spec_with_pixel(3000);
  second.rows = second.columns = 256;
  const auto path = save(testing::make_image(first), "swapped.dcm", EWM_fileformat);
  auto instance = Instance::load(path);
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  // Rewritten in place (same inode, same length), as an editor or a careless gateway would.
  const std::string replacement = harness::read_file(save(testing::make_image(second), "other.dcm", EWM_fileformat));
  std::fstream(path, std::ios::in | std::ios::out | std::ios::binary) << replacement;
  EXPECT_EQ(first_pixel(instance.value()), 100);
}

TEST_F(IdentityCheck, meta_header_and_data_set_must_name_the_same_instance) {
  auto file = testing::make_image(spec_with_pixel(7));
  OFString in_dataset;
  ASSERT_TRUE(file->getDataset()->findAndGetOFString(DCM_SOPInstanceUID, in_dataset).good());
  const std::string other = testing::fresh_uid();
  file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPClassUID, "1.2.840.10008.5.1.4.1.1.2");
  file->getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, other.c_str());
  file->getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID, "1.2.840.10008.1.2.1");
  auto instance = Instance::load(save(std::move(file), "mismatch.dcm", EWM_dontUpdateMeta));
  ASSERT_TRUE(instance.ok()) << instance.error().describe();
  const Status checked = check_identity(instance.value(), "", "C-STORE command");
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, "identity_mismatch");
  EXPECT_EQ(checked.error().message,
            "SOPInstanceUID: meta header " + other + ", data set " + std::string(in_dataset.c_str()));
}

TEST_F(IdentityCheck, the_announced_instance_must_be_the_data_sets) {
  auto instance = Instance::load(save(testing::make_image(spec_with_pixel(7)), "ok.dcm", EWM_fileformat));
  ASSERT_TRUE(instance.ok());
  EXPECT_TRUE(check_identity(instance.value(), "", "C-STORE command").ok());
  EXPECT_TRUE(check_identity(instance.value(), instance->identity().sop_instance_uid, "C-STORE command").ok());
  const Status other = check_identity(instance.value(), "1.2.3.4", "C-STORE command");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "identity_mismatch");
  EXPECT_EQ(other.error().message,
            "SOPInstanceUID: C-STORE command 1.2.3.4, data set " + instance->identity().sop_instance_uid);
}

}  // namespace
}  // namespace creni::dicom
