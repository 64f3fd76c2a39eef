// What is an image for [processing] non_image (issue 15): the SOP class list, and the data set's own Pixel Data
// for classes the list does not know.
#include "creni/dicom/image_storage_classes.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcvrof.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>

#include "creni/common/owned_fd.hpp"
#include "harness.hpp"

namespace creni::dicom {
namespace {

TEST(StorageObjectKind, classes_dcmtk_does_not_count_as_images_are_images) {
  EXPECT_EQ(storage_object_kind(UID_CTImageStorage), StorageObjectKind::image);
  EXPECT_EQ(storage_object_kind(UID_RTDoseStorage), StorageObjectKind::image);
  EXPECT_EQ(storage_object_kind(UID_SegmentationStorage), StorageObjectKind::image);
  EXPECT_EQ(storage_object_kind(UID_ParametricMapStorage), StorageObjectKind::image);
  EXPECT_EQ(storage_object_kind(UID_MultiframeSingleBitSecondaryCaptureImageStorage), StorageObjectKind::image);
  EXPECT_EQ(storage_object_kind(UID_RETIRED_UltrasoundImageStorage), StorageObjectKind::image);
}

TEST(StorageObjectKind, reports_documents_and_plans_are_not_images) {
  for (const char* uid : {UID_BasicTextSRStorage, UID_EnhancedSRStorage, UID_KeyObjectSelectionDocumentStorage,
                          UID_GrayscaleSoftcopyPresentationStateStorage, UID_RTPlanStorage, UID_RTStructureSetStorage,
                          UID_EncapsulatedPDFStorage, UID_TwelveLeadECGWaveformStorage, UID_MRSpectroscopyStorage,
                          UID_RawDataStorage, "1.3.12.2.1107.5.9.1"}) {
    EXPECT_EQ(storage_object_kind(uid), StorageObjectKind::non_image) << uid;
  }
}

TEST(StorageObjectKind, private_and_unlisted_classes_are_unknown) {
  EXPECT_EQ(storage_object_kind("1.3.46.670589.5.0.1"), StorageObjectKind::unknown);
  EXPECT_EQ(storage_object_kind(""), StorageObjectKind::unknown);
}

// Every image class DCMTK itself counts as an image is one of ours too: the list only ever adds.
TEST(StorageObjectKind, includes_every_class_dcmtk_calls_an_image) {
  for (int i = 0; i < numberOfDcmImageSOPClassUIDs; ++i) {
    if (dcmImageSOPClassUIDs[i] == nullptr) continue;
    EXPECT_EQ(storage_object_kind(dcmImageSOPClassUIDs[i]), StorageObjectKind::image) << dcmImageSOPClassUIDs[i];
  }
}

class HasPixelData : public ::testing::Test {
 protected:
  // A data set with an icon image (Pixel Data inside a sequence item) and, when asked, Pixel Data at the top level
  // (`tag`: Pixel Data, Float or Double Float Pixel Data).
  Result<bool> written(const char* syntax, E_EncodingType lengths, bool top_level, DcmTagKey tag = DCM_PixelData) {
    DcmFileFormat file;
    DcmDataset* data = file.getDataset();
    data->putAndInsertString(DCM_SOPClassUID, "1.3.46.670589.5.0.1");
    data->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.2.1143.9.1");
    auto* icon = new DcmItem();
    const std::array<Uint8, 4> small{1, 2, 3, 4};
    icon->putAndInsertUint8Array(DCM_PixelData, small.data(), small.size());
    auto* sequence = new DcmSequenceOfItems(DCM_IconImageSequence);
    sequence->insert(icon);
    data->insert(sequence);
    if (top_level && tag == DCM_PixelData) {
      const std::array<Uint16, 4> pixels{};
      data->putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
    } else if (top_level) {
      const std::array<Float32, 2> floats{0.5F, 1.5F};
      auto* element = new DcmOtherFloat(DcmTag(tag, EVR_OF));
      element->putFloat32Array(floats.data(), floats.size());
      data->insert(element);
    }
    const auto path = temp_ / "object.dcm";
    if (file.saveFile(path.c_str(), DcmXfer(syntax).getXfer(), lengths).bad()) return make_error("test", "not saved");
    auto meta = read_meta_identity(path);
    if (!meta) return meta.error();
    const fs::OwnedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    return has_pixel_data(fd.get(), meta.value());
  }

  harness::TempDir temp_{"pixel-presence"};
};

TEST_F(HasPixelData, finds_top_level_pixel_data_in_every_uncompressed_syntax_and_either_length_encoding) {
  for (const char* syntax : {UID_LittleEndianExplicitTransferSyntax, UID_LittleEndianImplicitTransferSyntax,
                             UID_BigEndianExplicitTransferSyntax}) {
    for (const E_EncodingType lengths : {EET_ExplicitLength, EET_UndefinedLength}) {
      const auto with = written(syntax, lengths, true);
      ASSERT_TRUE(with.ok()) << syntax << " " << with.error().describe();
      EXPECT_TRUE(with.value()) << syntax << " " << lengths;
      // Pixel Data inside a sequence item (an icon) does not make the object an image.
      const auto without = written(syntax, lengths, false);
      ASSERT_TRUE(without.ok()) << syntax << " " << without.error().describe();
      EXPECT_FALSE(without.value()) << syntax << " " << lengths;
    }
  }
}

TEST_F(HasPixelData, counts_float_and_double_float_pixel_data) {
  const auto floats = written(UID_LittleEndianExplicitTransferSyntax, EET_UndefinedLength, true, DCM_FloatPixelData);
  ASSERT_TRUE(floats.ok()) << floats.error().describe();
  EXPECT_TRUE(floats.value());
}

TEST_F(HasPixelData, leaves_a_deflated_data_set_undetermined) {
  const auto deflated = written(UID_DeflatedExplicitVRLittleEndianTransferSyntax, EET_ExplicitLength, false);
  ASSERT_FALSE(deflated.ok());
  EXPECT_EQ(deflated.error().code, "undetermined");
}

}  // namespace
}  // namespace creni::dicom
