#include "creni/pipeline/catalog_writer.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"

namespace creni::pipeline {
namespace {

catalog::CatalogRecord entry_for(const std::string& sop) {
  catalog::CatalogRecord entry;
  entry.patient = {{"PatientID", "P1"}};
  entry.study = {{"StudyInstanceUID", "2.25.1"}};
  entry.series = {{"SeriesInstanceUID", "2.25.2"}};
  entry.image = {{"SOPInstanceUID", sop}};
  return entry;
}

TEST(CatalogWriter, writes_every_queued_entry_into_its_gateways_image_db) {
  harness::TempDir output;
  const auto gateway_1 = output.path() / "gateway_1";
  const auto gateway_2 = output.path() / "gateway_2";
  std::filesystem::create_directories(gateway_1);
  std::filesystem::create_directories(gateway_2);
  CatalogWriter writer;
  for (int i = 0; i < 50; ++i) writer.add(gateway_1, entry_for("2.25.1" + std::to_string(i)));
  writer.add(gateway_2, entry_for("2.25.999"));
  writer.flush();

  auto first = catalog::Catalog::open_read_only(gateway_1 / "image.db");
  ASSERT_TRUE(first.ok()) << first.error().describe();
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(first.value()->contains_image("2.25.1" + std::to_string(i)).value());
  EXPECT_FALSE(first.value()->contains_image("2.25.999").value());
  auto second = catalog::Catalog::open_read_only(gateway_2 / "image.db");
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second.value()->contains_image("2.25.999").value());
}

TEST(CatalogWriter, stop_writes_what_is_still_queued) {
  harness::TempDir output;
  {
    CatalogWriter writer;
    writer.add(output.path(), entry_for("2.25.7"));
    writer.stop();
  }
  auto index = catalog::Catalog::open_read_only(output.path() / "image.db");
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index.value()->contains_image("2.25.7").value());
}

TEST(CatalogWriter, a_bad_entry_is_logged_and_the_writer_carries_on) {
  harness::TempDir output;
  CatalogWriter writer;
  catalog::CatalogRecord no_uids;  // refused by the catalog ("invalid_record")
  writer.add(output.path() / "a", no_uids);
  std::filesystem::create_directories(output.path() / "b");
  writer.add(output.path() / "b", entry_for("2.25.8"));
  writer.flush();
  auto index = catalog::Catalog::open_read_only(output.path() / "b" / "image.db");
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index.value()->contains_image("2.25.8").value());
}

}  // namespace
}  // namespace creni::pipeline
