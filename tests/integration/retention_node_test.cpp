// Retention in the running node: the sweeper thread removes delivered results past their age with their
// image.db rows, keeps the undelivered ones, and `status` shows what it did.
#include <gtest/gtest.h>

#include "creni/sqlite/connection.hpp"
#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

std::size_t files_in(const std::filesystem::path& folder) {
  std::size_t n = 0;
  for (const auto& file : harness::files_below(folder)) n += file.extension() == ".dcm" ? 1 : 0;
  return n;
}

std::int64_t rows_in(const std::filesystem::path& index, const std::string& table) {
  auto db = sqlite::Connection::open(index, sqlite::OpenMode::read_only);
  if (!db) return -1;
  auto statement = db->prepare("SELECT count(*) FROM " + table);
  if (!statement || !statement->step().ok()) return -1;
  return statement->column_int64(0);
}

TEST(RetentionNode, delivered_results_go_after_their_age_and_undelivered_ones_stay) {
  NodeUnderTest::Settings settings;
  // Gateway 1 forwards to a PACS that is not there and retries in an hour: its results are never delivered.
  settings.gateway_1 = "destinations = [\"pacs\"]";
  settings.tables = "[[destination]]\nname = \"pacs\"\nhost = \"127.0.0.1\"\nport = " +
                    std::to_string(harness::free_port()) +
                    "\nae_title = \"NOBODY\"\nmax_attempts = 5\nretry_backoff_s = 3600\n"
                    "[retention]\noutput_max_age = \"2s\"\nsweep_interval = \"1s\"\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 2);
  drop_images(node.input() / "gateway_2", 3);
  ASSERT_TRUE(harness::wait_until([&] { return files_in(node.output() / "gateway_1") == 2; }, 60s)) << node.log();

  // Gateway 2's results (no destination) are removed with their rows; gateway 1's wait for their PACS.
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("removed 3 result(s)") != std::string::npos; }, 60s))
      << node.log();
  EXPECT_EQ(files_in(node.output() / "gateway_2"), 0U);
  EXPECT_EQ(files_in(node.output() / "gateway_1"), 2U);
  EXPECT_EQ(harness::files_below(node.output() / "gateway_2").size(), 1U);  // image.db only
  for (const char* table : {"image", "study"}) {
    EXPECT_EQ(rows_in(node.output() / "gateway_2" / "image.db", table), 0) << table;
    EXPECT_GT(rows_in(node.output() / "gateway_1" / "image.db", table), 0) << table;
  }
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"retention\":{\"areas\":{\"output\":{"), std::string::npos) << status;
  EXPECT_NE(status.find("\"results_removed\":3"), std::string::npos) << status;
  EXPECT_EQ(node.count_in_state("written"), 3);  // the journal remembers them until journal_max_age
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace creni::testing
