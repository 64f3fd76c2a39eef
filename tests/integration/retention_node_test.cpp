// Retention in the running node: the sweeper thread removes delivered results past their age with their
// image.db rows, keeps the undelivered ones, and `status` and /metrics show what it did; size caps the free-space
// watermark would pre-empt are warned about at start.
#include <gtest/gtest.h>

#include "creni/sqlite/connection.hpp"
#include "dicom_factory.hpp"
#include "http_client.hpp"
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

  // Gateway 2's results (no destination) are removed with their rows; gateway 1's wait for their PACS. The three
  // may cross output_max_age in one sweep or in two (a tick between their ages): wait for the total.
  ASSERT_TRUE(harness::wait_until(
      [&] {
        return files_in(node.output() / "gateway_2") == 0 &&
               node.status_json().find("\"results_removed\":3") != std::string::npos;
      },
      60s))
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

TEST(RetentionNode, metrics_show_the_areas_and_what_the_sweeps_removed) {
  NodeUnderTest::Settings settings;
  settings.tables = "[retention]\noutput_max_age = \"3s\"\nsweep_interval = \"1s\"\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const auto scrape = [&node] { return http_get(node.http_port(), "/metrics").body; };
  const auto value = [&scrape](const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    return metric_value(scrape(), name, labels);
  };
  ASSERT_TRUE(harness::wait_until([&] { return value("creni_retention_sweeps_total") >= 1; }, 30s)) << scrape();
  EXPECT_EQ(value("creni_retention_removed_files_total", {{"area", "output"}}), 0) << scrape();
  const double first_sweep = value("creni_retention_last_sweep_timestamp_seconds");
  EXPECT_GT(first_sweep, 1.7e9) << scrape();

  drop_images(node.input() / "gateway_2", 3);
  ASSERT_TRUE(node.wait_for_state("written", 3, 60s)) << node.status_json();
  double result_bytes = 0;  // the results live 3 s: long enough to weigh them
  for (const auto& file : harness::files_below(node.output() / "gateway_2")) {
    if (file.extension() == ".dcm") result_bytes += static_cast<double>(std::filesystem::file_size(file));
  }
  ASSERT_GT(result_bytes, 0);
  ASSERT_TRUE(harness::wait_until(
      [&] { return value("creni_retention_removed_files_total", {{"area", "output"}}) == 3; }, 60s))
      << scrape() << node.log();
  const std::string text = scrape();
  EXPECT_EQ(metric_value(text, "creni_retention_removed_bytes_total", {{"area", "output"}}), result_bytes) << text;
  EXPECT_GT(metric_value(text, "creni_retention_last_sweep_timestamp_seconds"), first_sweep) << text;
  EXPECT_GE(metric_value(text, "creni_retention_sweeps_total"), 2) << text;
  // Measured at the end of the sweep that removed them: gateway 2's image.db is all OUTPUT still holds.
  EXPECT_EQ(metric_value(text, "creni_retention_area_files", {{"area", "output"}}), 1) << text;
  EXPECT_GT(metric_value(text, "creni_retention_area_bytes", {{"area", "journal"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "creni_retention_journal_rows", {{"table", "jobs"}}), 3) << text;
  EXPECT_LT(metric_value(text, "creni_retention_areas_age_seconds"), 30) << text;
  EXPECT_EQ(node.log().find("retention: the size caps"), std::string::npos) << "no cap, no warning";

  // status shows the sweeper's figures, with their age, instead of walking the areas again.
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"areas_measured_by\":\"sweeper\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"areas_age_s\":"), std::string::npos) << status;
  EXPECT_EQ(node.stop(), 0);
}

TEST(RetentionNode, size_caps_the_watermark_would_pre_empt_are_a_warning_at_start_not_an_exit) {
  NodeUnderTest::Settings settings;
  settings.tables = "[retention]\noutput_max_bytes = \"1000000TB\"\n";  // more than any disk here
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const std::string log = node.log();
  EXPECT_NE(log.find("retention: the size caps on the volume of OUTPUT"), std::string::npos) << log;
  EXPECT_NE(log.find("gateway 1 output_max_bytes 1000000000.0 GB"), std::string::npos) << log;
  EXPECT_NE(log.find("lower the caps or min_free_mb"), std::string::npos) << log;
  EXPECT_FALSE(node.exited_within(500ms)) << log;
  EXPECT_EQ(node.stop(), 0);
}

}  // namespace
}  // namespace creni::testing
