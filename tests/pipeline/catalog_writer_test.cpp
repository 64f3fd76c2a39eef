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
  std::vector<std::int64_t> indexed;
  CatalogWriter writer([&](const std::vector<std::int64_t>& ids) { indexed.insert(indexed.end(), ids.begin(), ids.end()); });
  for (int i = 0; i < 50; ++i) writer.add(i, {{gateway_1, entry_for("2.25.1" + std::to_string(i))}});
  writer.add(50, {{gateway_2, entry_for("2.25.999")}});
  writer.flush();
  EXPECT_EQ(indexed.size(), 51U);

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
    writer.add(7, {{output.path(), entry_for("2.25.7")}});
    writer.stop();
  }
  auto index = catalog::Catalog::open_read_only(output.path() / "image.db");
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index.value()->contains_image("2.25.7").value());
}

TEST(CatalogWriter, a_bad_entry_is_logged_and_only_its_job_stays_unconfirmed) {
  harness::TempDir output;
  std::vector<std::int64_t> indexed;
  CatalogWriter writer([&](const std::vector<std::int64_t>& ids) { indexed.insert(indexed.end(), ids.begin(), ids.end()); });
  catalog::CatalogRecord no_uids;  // refused by the catalog ("invalid_record")
  std::filesystem::create_directories(output.path() / "b");
  // Job 1's second row is bad; it shares a folder (and so a transaction) with job 2's good row.
  writer.add(1, {{output.path() / "a", entry_for("2.25.5")}, {output.path() / "b", no_uids}});
  writer.add(2, {{output.path() / "b", entry_for("2.25.8")}});
  writer.flush();
  auto index = catalog::Catalog::open_read_only(output.path() / "b" / "image.db");
  ASSERT_TRUE(index.ok());
  EXPECT_TRUE(index.value()->contains_image("2.25.8").value());
  EXPECT_EQ(indexed, std::vector<std::int64_t>{2});
}

TEST(CatalogWriter, a_folder_whose_image_db_cannot_be_opened_leaves_its_jobs_unconfirmed) {
  harness::TempDir output;
  std::vector<std::int64_t> indexed;
  CatalogWriter writer([&](const std::vector<std::int64_t>& ids) { indexed.insert(indexed.end(), ids.begin(), ids.end()); });
  std::filesystem::create_directories(output.path() / "bad" / "image.db");  // a folder where the file should be
  std::filesystem::create_directories(output.path() / "good");
  writer.add(1, {{output.path() / "bad", entry_for("2.25.9")}});
  writer.add(2, {{output.path() / "good", entry_for("2.25.10")}});
  writer.flush();
  EXPECT_EQ(indexed, std::vector<std::int64_t>{2});
}

}  // namespace
}  // namespace creni::pipeline
