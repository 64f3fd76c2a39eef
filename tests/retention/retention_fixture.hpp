#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "creni/catalog/catalog.hpp"
#include "creni/common/clock.hpp"
#include "creni/config/node_config.hpp"
#include "creni/journal/journal.hpp"
#include "creni/retention/sweeper.hpp"
#include "creni/sqlite/connection.hpp"
#include "creni/sqlite/statement.hpp"
#include "harness.hpp"

namespace creni::retention {

inline constexpr std::int64_t kDayMs = 86'400'000;

/// A node's folders and journal in a temporary directory, with results made the way the pipeline makes them
/// (journal `written` with destinations, a file in OUTPUT, an image.db row, confirmed), aged by setting their
/// times in the journal directly.
class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.input_dir = dir_ / "INPUT";
    config_.output_dir = dir_ / "OUTPUT";
    config_.state_dir = dir_ / "state";
    config::GatewayConfig gateway;
    gateway.id = "1";
    config_.gateways.push_back(gateway);
    for (const auto& folder : {config_.input_dir, config_.output_dir, config_.state_dir / "spool"}) {
      std::filesystem::create_directories(folder);
    }
    auto journal = journal::Journal::open(config_.state_dir / "journal.db");
    ASSERT_TRUE(journal.ok()) << journal.error().describe();
    journal_ = std::move(journal).value();
  }

  std::filesystem::path output_index() const { return config_.output_dir / "gateway_1" / "image.db"; }
  std::filesystem::path input_index() const { return config_.input_dir / "gateway_1" / "image.db"; }

  static void write_bytes(const std::filesystem::path& file, std::size_t bytes) {
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << std::string(bytes, 'x');
  }

  static void index(const std::filesystem::path& index_file, const std::string& study, const std::string& sop,
                    const std::filesystem::path& file) {
    auto catalog = catalog::Catalog::open_for_writing(index_file);
    ASSERT_TRUE(catalog.ok()) << catalog.error().describe();
    catalog::CatalogRecord record;
    record.patient = {{"PatientID", "P1"}};
    record.study = {{"StudyInstanceUID", study}};
    record.series = {{"SeriesInstanceUID", study + ".1"}};
    record.image = {{"SOPInstanceUID", sop}, {"PrivateCreator", std::filesystem::absolute(file).string()}};
    ASSERT_TRUE(catalog.value()->upsert(record).ok());
  }

  // A result of `sop` in `study`, `bytes` long, finished `age_ms` ago, with its forwards queued to `destinations`.
  std::int64_t result(const std::string& sop, const std::string& study, std::int64_t age_ms,
                      const std::vector<std::string>& destinations = {}, std::size_t bytes = 1000,
                      journal::Source source = journal::Source::folder) {
    const auto input = source == journal::Source::scp ? config_.state_dir / "spool" / (sop + ".dcm")
                                                      : config_.input_dir / "gateway_1" / study / sop;
    journal::NewArrival arrival;
    arrival.gateway_id = "1";
    arrival.source = source;
    arrival.input_path = input;
    arrival.sop_instance_uid = sop;
    arrival.content_hash = "hash-" + sop;
    auto recorded = journal_->record_arrival(arrival);
    EXPECT_TRUE(recorded.ok());
    auto claimed = journal_->claim_next(2);
    EXPECT_TRUE(claimed.ok() && claimed->has_value());
    const std::string result_sop = "2.25." + sop;
    const auto output = config_.output_dir / "gateway_1" / study / (result_sop + ".dcm");
    write_bytes(output, bytes);
    std::filesystem::path mirrored;
    if (source == journal::Source::scp) {  // the node's copy of an SCP arrival in INPUT, with its row
      mirrored = config_.input_dir / "gateway_1" / study / sop;
      write_bytes(mirrored, bytes);
      index(input_index(), study, sop, mirrored);
    }
    EXPECT_TRUE(journal_->mark_written(recorded->job_id, output, result_sop, destinations, mirrored).ok());
    index(output_index(), "2.25.9" + study, result_sop, output);
    EXPECT_TRUE(journal_->mark_catalogued({recorded->job_id}).ok());
    age(recorded->job_id, age_ms);
    return recorded->job_id;
  }

  // Sets the job's times `age_ms` in the past (arrival one more second before).
  void age(std::int64_t job_id, std::int64_t age_ms) {
    sql("UPDATE jobs SET updated_at_ms = " + std::to_string(unix_time_ms() - age_ms) +
        ", created_at_ms = " + std::to_string(unix_time_ms() - age_ms - 1000) + " WHERE id = " + std::to_string(job_id));
  }

  // Takes the next forward to `destination` and records `state` for it.
  void forward(const std::string& destination, journal::ForwardState state) {
    auto task = journal_->claim_forward(destination);
    ASSERT_TRUE(task.ok() && task->has_value());
    ASSERT_TRUE(journal_->record_forward_outcome(task->value().id, {state, "store", "", 0}).ok());
  }

  void sql(const std::string& statement) const {
    auto db = sqlite::Connection::open(config_.state_dir / "journal.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec(statement).ok()) << statement;
  }

  static std::int64_t count(const std::filesystem::path& database, const std::string& query) {
    auto db = sqlite::Connection::open(database, sqlite::OpenMode::read_only);
    EXPECT_TRUE(db.ok()) << database;
    if (!db) return -1;
    auto statement = db->prepare(query);
    EXPECT_TRUE(statement.ok()) << query;
    if (!statement || !statement->step().ok()) return -1;
    return statement->column_int64(0);
  }

  std::string retention_state(std::int64_t job_id) const {
    auto db = sqlite::Connection::open(config_.state_dir / "journal.db", sqlite::OpenMode::read_only);
    auto statement = db->prepare("SELECT retention_state FROM jobs WHERE id = " + std::to_string(job_id));
    if (!statement) return "(no statement)";
    auto row = statement->step();
    if (!row || !row.value()) return "(no row)";
    return statement->column_text(0);
  }

  SweepReport sweep() {
    auto sweeper = Sweeper::open(config_);
    EXPECT_TRUE(sweeper.ok()) << sweeper.error().describe();
    return sweeper.value()->sweep_once();
  }

  bool has_job(std::int64_t id) { return journal_->find_job(id).value().has_value(); }

  harness::TempDir dir_{"creni-retention"};
  config::NodeConfig config_;
  std::unique_ptr<journal::Journal> journal_;
};

}  // namespace creni::retention
