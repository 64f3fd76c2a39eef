// The canonical content identity (#12 point 5): one instance in every uncompressed, deflated and RLE encoding
// has one identity; any other value gives another.
#include "creni/dicom/canonical_identity.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "creni/dicom/dcmtk_runtime.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::dicom {
namespace {

std::string identity_of(const testing::ImageSpec& spec, const std::filesystem::path& file) {
  EXPECT_TRUE(testing::write_image(spec, file).ok());
  auto hash = canonical_content_hash(file);
  EXPECT_TRUE(hash.ok()) << hash.error().describe();
  return hash ? hash.value() : std::string();
}

TEST(CanonicalIdentity, is_the_same_in_every_lossless_encoding_and_differs_for_other_content) {
  const DcmtkRuntime runtime;
  harness::TempDir folder("canonical");
  testing::ImageSpec spec;
  spec.sop_instance_uid = "1.2.3.4.5";
  spec.study_instance_uid = "1.2.3.4";
  spec.series_instance_uid = "1.2.3.4.6";
  const std::string reference = identity_of(spec, folder / "explicit-le.dcm");
  ASSERT_EQ(reference.size(), 64u);
  for (const std::string syntax : {"1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
                                   "1.2.840.10008.1.2.5"}) {
    testing::ImageSpec encoded = spec;
    encoded.transfer_syntax = syntax;
    EXPECT_EQ(identity_of(encoded, folder / (syntax + ".dcm")), reference) << syntax;
  }
  testing::ImageSpec other_pixels = spec;
  other_pixels.pixel = [](int, int row, int column, int) { return 1000 + row - column; };
  EXPECT_NE(identity_of(other_pixels, folder / "other-pixels.dcm"), reference);
  testing::ImageSpec other_study = spec;
  other_study.study_instance_uid = "1.2.3.9";
  EXPECT_NE(identity_of(other_study, folder / "other-study.dcm"), reference);
}

TEST(CanonicalIdentity, refuses_what_is_not_dicom) {
  harness::TempDir folder("canonical");
  std::ofstream(folder / "text.dcm") << "not a DICOM file";
  auto hash = canonical_content_hash(folder / "text.dcm");
  ASSERT_FALSE(hash.ok());
  EXPECT_EQ(hash.error().code, "not_dicom");
}

}  // namespace
}  // namespace creni::dicom
