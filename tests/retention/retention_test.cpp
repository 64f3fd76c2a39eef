#include <sys/syscall.h>
#include <unistd.h>

#include <thread>

#include "retention_fixture.hpp"

namespace creni::retention {
namespace {

using journal::ForwardState;
using journal::JobState;

TEST_F(RetentionTest, old_results_go_with_their_image_db_rows_and_a_study_goes_with_its_last_image) {
  const auto old_a = result("1.1", "1", 31 * kDayMs);
  const auto old_b = result("1.2", "1", 31 * kDayMs);
  const auto young = result("1.3", "1", kDayMs);
  const auto report = sweep();
  EXPECT_EQ(report.results_removed, 2);
  EXPECT_EQ(report.result_bytes_removed, 2000);
  EXPECT_EQ(report.errors, 0);
  EXPECT_FALSE(std::filesystem::exists(journal_->find_job(old_a).value()->output_path));
  EXPECT_FALSE(std::filesystem::exists(journal_->find_job(old_b).value()->output_path));
  EXPECT_TRUE(std::filesystem::exists(journal_->find_job(young).value()->output_path));
  EXPECT_EQ(retention_state(old_a), "swept");
  EXPECT_EQ(retention_state(young), "kept");
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM image"), 1);
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM study"), 1);  // the young result still needs it

  age(young, 31 * kDayMs);
  EXPECT_EQ(sweep().results_removed, 1);
  for (const char* table : {"image", "series", "study", "patient"}) {
    EXPECT_EQ(count(output_index(), std::string("SELECT count(*) FROM ") + table), 0) << table;
  }
  EXPECT_EQ(sweep().results_removed, 0);  // nothing twice
}

TEST_F(RetentionTest, undelivered_results_stay_whatever_their_age) {
  // One destination name per case, so that each forward is claimed by name.
  const auto waiting = result("2.1", "2", 0, {"pacs_w"});
  const auto retrying = result("2.2", "2", 0, {"pacs_r"});
  const auto failed = result("2.3", "2", 0, {"pacs_f"});
  const auto unknown = result("2.4", "2", 0, {"pacs_u"});
  const auto delivered = result("2.5", "2", 0, {"pacs_d", "archive"});
  {
    auto task = journal_->claim_forward("pacs_r");
    ASSERT_TRUE(task.ok() && task->has_value());
    ASSERT_TRUE(journal_->record_forward_outcome(task->value().id, {ForwardState::forward_failed, "associate", "", -1},
                                                 unix_time_ms() + 3'600'000)
                    .ok());
  }
  forward("pacs_f", ForwardState::forward_failed);
  forward("pacs_u", ForwardState::forward_unknown);
  forward("pacs_d", ForwardState::done);
  forward("archive", ForwardState::done);
  for (auto id : {waiting, retrying, failed, unknown, delivered}) age(id, 40 * kDayMs);

  const auto report = sweep();
  EXPECT_EQ(report.results_removed, 1);
  EXPECT_EQ(report.undelivered_kept, 4);
  EXPECT_EQ(retention_state(delivered), "swept");
  for (auto id : {waiting, retrying, failed, unknown}) {
    EXPECT_EQ(retention_state(id), "kept") << id;
    EXPECT_TRUE(std::filesystem::exists(journal_->find_job(id).value()->output_path)) << id;
  }
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM image"), 4);
  // A size cap does not take them either.
  config_.retention.limits.output_max_bytes = 1;
  EXPECT_EQ(sweep().results_removed, 0);
}

TEST_F(RetentionTest, delete_unforwarded_takes_them_too_but_never_one_being_sent) {
  const auto waiting = result("3.1", "3", 0, {"pacs_w"});
  const auto unknown = result("3.2", "3", 0, {"pacs_u"});
  const auto sending = result("3.3", "3", 0, {"pacs_s"});
  forward("pacs_u", ForwardState::forward_unknown);
  auto in_flight = journal_->claim_forward("pacs_s");
  ASSERT_TRUE(in_flight.ok() && in_flight->has_value());
  for (auto id : {waiting, unknown, sending}) age(id, 40 * kDayMs);
  config_.retention.limits.delete_unforwarded = true;

  EXPECT_EQ(sweep().results_removed, 2);
  EXPECT_EQ(retention_state(sending), "kept");
  // The waiting forward is closed honestly instead of failing later on a missing file.
  const auto forwards = journal_->forwards_of(waiting).value();
  ASSERT_EQ(forwards.size(), 1U);
  EXPECT_EQ(forwards[0].state, ForwardState::forward_failed);
  EXPECT_NE(forwards[0].detail.find("retention"), std::string::npos);
  EXPECT_EQ(journal_->find_job(waiting).value()->state, JobState::forward_failed);
  EXPECT_EQ(journal_->find_job(unknown).value()->state, JobState::forward_unknown);
}

TEST_F(RetentionTest, a_size_cap_removes_the_oldest_results_first) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(result("4." + std::to_string(i), "4", kDayMs, {}, 1000));
  config_.retention.limits.output_max_age_s = config::kNoAgeLimit;
  // 5000 bytes of results plus image.db: a cap of 2500 bytes leaves at most the two newest.
  const auto index_bytes = static_cast<std::uint64_t>(std::filesystem::file_size(output_index()));
  config_.retention.limits.output_max_bytes = 2500 + index_bytes;
  EXPECT_EQ(sweep().results_removed, 3);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(retention_state(ids[i]), i < 3 ? "swept" : "kept") << i;
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM image"), 2);
}

TEST_F(RetentionTest, the_nodes_copy_of_an_scp_arrival_goes_with_its_result_but_a_gateways_row_stays) {
  const auto scp = result("5.1", "5", 31 * kDayMs, {}, 1000, journal::Source::scp);
  const auto copy = journal_->find_job(scp).value()->input_path;
  ASSERT_TRUE(std::filesystem::exists(copy));
  // The gateway's own file and row for another instance in the same study.
  const auto theirs = config_.input_dir / "gateway_1" / "5" / "5.2";
  write_bytes(theirs, 10);
  index(input_index(), "5", "5.2", theirs);

  EXPECT_EQ(sweep().results_removed, 1);
  EXPECT_FALSE(std::filesystem::exists(copy));
  EXPECT_TRUE(std::filesystem::exists(theirs));
  EXPECT_EQ(count(input_index(), "SELECT count(*) FROM image WHERE SOPInstanceUID = '5.1'"), 0);
  EXPECT_EQ(count(input_index(), "SELECT count(*) FROM image WHERE SOPInstanceUID = '5.2'"), 1);
  EXPECT_EQ(count(input_index(), "SELECT count(*) FROM study"), 1);
}

TEST_F(RetentionTest, the_study_folder_the_nodes_copy_leaves_empty_in_input_goes_with_it) {
  const auto alone = result("8.1", "8", 31 * kDayMs, {}, 1000, journal::Source::scp);
  const auto gateway = config_.input_dir / "gateway_1";
  const auto theirs = gateway / "10" / "10.2";  // a gateway's own file beside the node's copy
  const auto beside_theirs = result("10.1", "10", 31 * kDayMs, {}, 1000, journal::Source::scp);
  write_bytes(theirs, 10);
  const auto newer = result("9.1", "9", 1 * kDayMs, {}, 1000, journal::Source::scp);  // not due yet

  EXPECT_EQ(sweep().results_removed, 2);
  for (auto id : {alone, beside_theirs}) EXPECT_EQ(retention_state(id), "swept") << id;
  EXPECT_FALSE(std::filesystem::exists(gateway / "8")) << "emptied by the sweep: no folder left for every study";
  EXPECT_TRUE(std::filesystem::exists(journal_->find_job(newer).value()->input_path));
  EXPECT_TRUE(std::filesystem::exists(theirs)) << "a folder that still holds a file stays";
  EXPECT_FALSE(std::filesystem::exists(journal_->find_job(beside_theirs).value()->input_path));
  EXPECT_TRUE(std::filesystem::is_directory(gateway));
}

TEST_F(RetentionTest, the_journal_forgets_old_finished_jobs_unless_their_input_is_still_in_input) {
  config_.retention.limits.output_max_age_s = kDayMs / 1000;
  const auto gone = result("6.1", "6", 100 * kDayMs, {"pacs"});
  forward("pacs", ForwardState::done);
  const auto kept_input = result("6.2", "6", 100 * kDayMs);
  write_bytes(journal_->find_job(kept_input).value()->input_path, 10);  // the gateway keeps its files
  const auto recent = result("6.3", "6", 10 * kDayMs);
  // A rejected SCP arrival: its received file stays in the spool next to the quarantine copy until the row goes.
  const auto spool_file = config_.state_dir / "spool" / "rejected.dcm";
  write_bytes(spool_file, 10);
  journal::NewArrival rejected_arrival;
  rejected_arrival.gateway_id = "1";
  rejected_arrival.source = journal::Source::scp;
  rejected_arrival.input_path = spool_file;
  rejected_arrival.sop_instance_uid = "6.4";
  rejected_arrival.content_hash = "h";
  const auto rejected = journal_->record_rejected_arrival(rejected_arrival, "not_dicom", "");
  ASSERT_TRUE(rejected.ok());
  for (auto id : {gone, kept_input}) age(id, 100 * kDayMs);
  age(rejected.value(), 100 * kDayMs);

  const auto report = sweep();
  EXPECT_EQ(report.results_removed, 3);
  EXPECT_EQ(report.jobs_pruned, 2);
  EXPECT_EQ(report.spool_files_removed, 1);
  EXPECT_FALSE(has_job(gone));
  EXPECT_FALSE(has_job(rejected.value()));
  EXPECT_FALSE(std::filesystem::exists(spool_file));
  EXPECT_TRUE(has_job(kept_input)) << "its input would come back as a new arrival";
  EXPECT_TRUE(has_job(recent));
  EXPECT_EQ(count(config_.state_dir / "journal.db", "SELECT count(*) FROM forwards"), 0);
}

TEST_F(RetentionTest, forward_unknown_rows_stay_in_the_journal_for_the_operator) {
  const auto unknown = result("7.1", "7", 0, {"pacs"});
  forward("pacs", ForwardState::forward_unknown);
  age(unknown, 200 * kDayMs);
  sweep();
  EXPECT_TRUE(has_job(unknown));
  EXPECT_TRUE(std::filesystem::exists(journal_->find_job(unknown).value()->output_path));
}

TEST_F(RetentionTest, archive_and_quarantine_lose_files_past_their_age_and_above_their_cap_oldest_first) {
  const auto archive = config_.state_dir / "archive" / "gateway_1";
  const auto quarantine = config_.state_dir / "quarantine" / "gateway_1";
  const auto stamp = [](const std::filesystem::path& file, std::int64_t age_ms) {
    std::filesystem::last_write_time(file, std::filesystem::file_time_type::clock::now() -
                                               std::chrono::milliseconds(age_ms));
  };
  write_bytes(archive / "job-1", 100);
  stamp(archive / "job-1", 31 * kDayMs);
  write_bytes(archive / "job-2", 100);
  stamp(archive / "job-2", 29 * kDayMs);
  for (int i = 0; i < 4; ++i) {
    write_bytes(quarantine / ("job-" + std::to_string(i)), 100);
    stamp(quarantine / ("job-" + std::to_string(i)), (10 - i) * kDayMs);
  }
  config_.retention.limits.quarantine_max_bytes = 250;

  const auto report = sweep();
  EXPECT_EQ(report.archive_files_removed, 1);
  EXPECT_FALSE(std::filesystem::exists(archive / "job-1"));
  EXPECT_TRUE(std::filesystem::exists(archive / "job-2"));
  EXPECT_EQ(report.quarantine_files_removed, 2);
  EXPECT_EQ(report.quarantine_bytes_removed, 200);
  EXPECT_FALSE(std::filesystem::exists(quarantine / "job-0"));
  EXPECT_FALSE(std::filesystem::exists(quarantine / "job-1"));
  EXPECT_TRUE(std::filesystem::exists(quarantine / "job-3"));
}

TEST_F(RetentionTest, a_result_written_again_after_reprocessing_is_kept_again) {
  const auto id = result("8.1", "8", 31 * kDayMs);
  EXPECT_EQ(sweep().results_removed, 1);
  ASSERT_EQ(journal_->reprocess({id}).value(), 1);
  auto claimed = journal_->claim_next(2);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  const auto output = config_.output_dir / "gateway_1" / "8" / "again.dcm";
  write_bytes(output, 10);
  ASSERT_TRUE(journal_->mark_written(id, output, "2.25.8.1", {}).ok());
  EXPECT_EQ(retention_state(id), "kept");
}

TEST_F(RetentionTest, the_journal_uses_incremental_vacuum_and_gives_pages_back) {
  EXPECT_EQ(count(config_.state_dir / "journal.db", "PRAGMA auto_vacuum"), 2);
  config_.retention.limits.output_max_age_s = 1;
  config_.retention.journal_max_age_s = 1;
  for (int i = 0; i < 120; ++i) {
    const auto id = result("9." + std::to_string(i), "9", 0, {}, 10);
    sql("UPDATE jobs SET detail = '" + std::string(5000, 'd') + "', input_path = '/gone/" + std::to_string(i) +
        "' WHERE id = " + std::to_string(id));
    age(id, 2 * kDayMs);
  }
  const auto report = sweep();
  EXPECT_EQ(report.jobs_pruned, 120);
  EXPECT_GT(report.pages_reclaimed, 100);
  EXPECT_EQ(count(config_.state_dir / "journal.db", "PRAGMA freelist_count"), 0);
}

TEST_F(RetentionTest, an_old_journal_is_switched_to_incremental_vacuum_once) {
  journal_.reset();
  sql("PRAGMA auto_vacuum = NONE; VACUUM;");
  ASSERT_EQ(count(config_.state_dir / "journal.db", "PRAGMA auto_vacuum"), 0);
  auto reopened = journal::Journal::open(config_.state_dir / "journal.db");
  ASSERT_TRUE(reopened.ok()) << reopened.error().describe();
  EXPECT_EQ(count(config_.state_dir / "journal.db", "PRAGMA auto_vacuum"), 2);
}

TEST_F(RetentionTest, status_figures_are_published_after_a_sweep) {
  result("10.1", "10", 31 * kDayMs, {}, 1234);
  result("10.2", "10", 0, {}, 4321);
  auto sweeper = Sweeper::open(config_);
  ASSERT_TRUE(sweeper.ok());
  sweeper.value()->sweep_once();
  const auto published = read_retention_stats(config_.state_dir / "retention-status.json");
  ASSERT_TRUE(published.has_value());
  EXPECT_EQ(published->sweeps, 1);
  EXPECT_EQ(published->last_sweep.results_removed, 1);
  EXPECT_EQ(published->last_sweep.result_bytes_removed, 1234);
  EXPECT_EQ(published->areas.output.files, 2);  // the young result and image.db
  EXPECT_GE(published->areas.output.bytes, 4321);
  EXPECT_EQ(published->areas.journal_jobs, 2);
  EXPECT_GT(published->areas.journal.bytes, 0);
  EXPECT_EQ(sweeper.value()->stats().totals.results_removed, 1);
}

TEST(RetentionThread, runs_at_idle_io_priority) {
  long priority = -1;
  std::thread([&priority] {
    lower_thread_priority();
    priority = ::syscall(SYS_ioprio_get, 1, 0);
  }).join();
  EXPECT_EQ(priority >> 13, 3) << "IOPRIO_CLASS_IDLE";
  EXPECT_NE(::syscall(SYS_ioprio_get, 1, 0) >> 13, 3) << "only the sweeper's own thread";
}

}  // namespace
}  // namespace creni::retention
