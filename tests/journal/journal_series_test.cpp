// The journal's series: instances join runs when written, runs complete, late instances start new runs, and the
// report joins the forward ledger.
#include <gtest/gtest.h>

#include "creni/journal/journal.hpp"
#include "harness.hpp"

namespace creni::journal {
namespace {

class JournalSeries : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    journal_.reset();
    auto opened = Journal::open(file_);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  // An instance of `series` arrives (through `association`, "" for the folder) and is written.
  std::int64_t written(const std::string& series, const std::string& association = "", std::int64_t expected = 0,
                       LateArrival late = LateArrival::reopen) {
    const std::string sop = "1.2.3." + std::to_string(++counter_);
    NewArrival arrival{"1", association.empty() ? Source::folder : Source::scp, "/in/" + sop, sop, "h" + sop, "", ""};
    arrival.association = association;
    auto recorded = journal_->record_arrival(arrival);
    EXPECT_TRUE(recorded.ok());
    auto claimed = journal_->claim_next(2);
    EXPECT_TRUE(claimed.ok() && claimed->has_value());
    SeriesMember member;
    member.study_instance_uid = "1.2.9";
    member.series_instance_uid = series;
    member.sop_class_uid = "1.2.840.10008.5.1.4.1.1.2";
    member.sop_instance_uid = sop;
    member.result_sop_instance_uid = "2.25." + std::to_string(counter_);
    member.expected = expected;
    member.image_position = "0\\0\\" + std::to_string(counter_);
    member.header = "patient.PatientID=P1\n";
    member.late = late;
    EXPECT_TRUE(journal_->mark_written(recorded->job_id, "/out/" + sop, member.result_sop_instance_uid, {}, {}, &member).ok());
    return recorded->job_id;
  }

  std::vector<SeriesRecord> open_runs() {
    auto open = journal_->open_series();
    EXPECT_TRUE(open.ok()) << open.error().describe();
    return open ? open.value() : std::vector<SeriesRecord>{};
  }

  SeriesRun claim() {
    auto claimed = journal_->claim_series(2);
    EXPECT_TRUE(claimed.ok()) << claimed.error().describe();
    EXPECT_TRUE(claimed->has_value());
    return claimed->value_or(SeriesRun{});
  }

  harness::TempDir dir_{"creni-journal-series"};
  std::filesystem::path file_ = dir_ / "journal.db";
  std::unique_ptr<Journal> journal_;
  int counter_ = 0;
};

TEST_F(JournalSeries, written_instances_of_one_series_count_in_one_open_run) {
  written("1.5.1", "", 3);
  written("1.5.1");
  written("1.5.2");
  const auto open = open_runs();
  ASSERT_EQ(open.size(), 2U);
  EXPECT_EQ(open[0].series_instance_uid, "1.5.1");
  EXPECT_EQ(open[0].received, 2);
  EXPECT_EQ(open[0].expected, 3);
  EXPECT_EQ(open[0].run, 1);
  EXPECT_EQ(open[0].header, "patient.PatientID=P1\n");
  EXPECT_LE(open[0].first_arrival_ms, open[0].last_arrival_ms);
  EXPECT_EQ(open[1].received, 1);
  EXPECT_EQ(open[1].expected, 0);
}

TEST_F(JournalSeries, an_association_is_seen_ended_only_once_recorded_and_with_its_pending_jobs_counted) {
  written("1.5.1", "assoc-1");
  NewArrival arrival{"1", Source::scp, "/in/x", "1.9.9", "hx", "", ""};
  arrival.association = "assoc-1";
  ASSERT_TRUE(journal_->record_arrival(arrival).ok());
  auto open = open_runs();
  ASSERT_EQ(open.size(), 1U);
  EXPECT_EQ(open[0].last_association, "assoc-1");
  EXPECT_FALSE(open[0].association_ended);
  EXPECT_EQ(open[0].association_pending, 1);
  ASSERT_TRUE(journal_->record_association_ended("assoc-1", 1).ok());
  ASSERT_TRUE(journal_->record_association_ended("assoc-1", 2).ok());  // idempotent
  open = open_runs();
  EXPECT_TRUE(open[0].association_ended);
}

TEST_F(JournalSeries, a_complete_run_is_claimed_once_with_its_instances_and_survives_a_restart) {
  const auto first = written("1.5.1");
  const auto second = written("1.5.1");
  const auto id = open_runs().front().id;
  ASSERT_TRUE(journal_->complete_series(id, "idle").ok());
  EXPECT_EQ(journal_->complete_series(id, "idle").error().code, "invalid_transition");
  EXPECT_TRUE(open_runs().empty());
  SeriesRun run = claim();
  EXPECT_EQ(run.series.id, id);
  EXPECT_EQ(run.series.completed_by, "idle");
  EXPECT_EQ(run.series.attempts, 1);
  ASSERT_EQ(run.instances.size(), 2U);
  EXPECT_EQ(run.instances[0].job_id, first);
  EXPECT_EQ(run.instances[1].job_id, second);
  EXPECT_EQ(run.instances[0].output_path, "/out/" + run.instances[0].sop_instance_uid);
  EXPECT_FALSE(journal_->claim_series(2)->has_value());

  reopen();  // the node stopped while the series job ran
  EXPECT_EQ(journal_->recover_series().value(), 1);
  run = claim();
  EXPECT_EQ(run.series.id, id);
  EXPECT_EQ(run.series.attempts, 2);
  ASSERT_TRUE(journal_->record_series_failure(id, "external_failed", "exit 1", false).ok());
  EXPECT_FALSE(journal_->claim_series(2)->has_value()) << "two attempts used: the run fails as poison";
  EXPECT_EQ(journal_->find_series(id)->value().state, SeriesState::failed);
  EXPECT_EQ(journal_->find_series(id)->value().reason, "poison");
}

TEST_F(JournalSeries, the_report_becomes_a_written_job_with_its_forwards_in_the_same_ledger) {
  written("1.5.1");
  const auto id = open_runs().front().id;
  ASSERT_TRUE(journal_->complete_series(id, "expected_count").ok());
  (void)claim();
  auto job_id = journal_->record_series_report(id, SeriesReport{"/out/sr.dcm", "2.25.99", "slices 1"}, {"pacs", "pacs"});
  ASSERT_TRUE(job_id.ok()) << job_id.error().describe();
  const auto report = journal_->find_job(job_id.value())->value();
  EXPECT_EQ(report.state, JobState::written);
  EXPECT_EQ(report.result_sop_instance_uid, "2.25.99");
  EXPECT_EQ(report.detail, "series report of series run " + std::to_string(id));
  EXPECT_TRUE(journal_->jobs_awaiting_catalogue(-1)->size() == 1U) << "only the image owes image.db rows";
  EXPECT_EQ(journal_->forwards_of(job_id.value())->size(), 1U);
  auto task = journal_->claim_forward("pacs");
  ASSERT_TRUE(task.ok() && task->has_value());
  EXPECT_EQ(task->value().output_path, "/out/sr.dcm");
  const auto series = journal_->find_series(id)->value();
  EXPECT_EQ(series.state, SeriesState::reported);
  EXPECT_EQ(series.result_job_id, job_id.value());
  EXPECT_EQ(series.summary, "slices 1");
  EXPECT_EQ(journal_->record_series_report(id, SeriesReport{"/out/sr.dcm", "2.25.99", ""}, {}).error().code,
            "invalid_transition");
}

TEST_F(JournalSeries, a_late_instance_reopens_a_new_run_with_everything_so_far) {
  written("1.5.1");
  written("1.5.1");
  const auto id = open_runs().front().id;
  ASSERT_TRUE(journal_->complete_series(id, "idle").ok());
  (void)claim();
  ASSERT_TRUE(journal_->record_series_report(id, SeriesReport{"/out/sr.dcm", "2.25.99", ""}, {}).ok());
  const auto late = written("1.5.1", "", 0, LateArrival::reopen);
  const auto open = open_runs();
  ASSERT_EQ(open.size(), 1U);
  EXPECT_EQ(open[0].run, 2);
  EXPECT_EQ(open[0].received, 3);
  ASSERT_TRUE(journal_->complete_series(open[0].id, "idle").ok());
  const SeriesRun run = claim();
  ASSERT_EQ(run.instances.size(), 3U);
  EXPECT_EQ(run.instances[2].job_id, late);
}

TEST_F(JournalSeries, a_late_instance_under_separate_starts_a_run_of_its_own) {
  written("1.5.1");
  const auto id = open_runs().front().id;
  ASSERT_TRUE(journal_->complete_series(id, "idle").ok());
  (void)claim();
  const auto late = written("1.5.1", "", 0, LateArrival::separate);
  const auto open = open_runs();
  ASSERT_EQ(open.size(), 1U);
  EXPECT_EQ(open[0].run, 2);
  EXPECT_EQ(open[0].received, 1);
  ASSERT_TRUE(journal_->complete_series(open[0].id, "idle").ok());
  auto claimed = journal_->claim_series(2);
  ASSERT_TRUE(claimed->has_value());
  ASSERT_EQ(claimed->value().instances.size(), 1U);
  EXPECT_EQ(claimed->value().instances[0].job_id, late);
}

TEST_F(JournalSeries, a_job_written_again_is_not_a_late_instance) {
  const auto job = written("1.5.1");
  const auto id = open_runs().front().id;
  ASSERT_TRUE(journal_->complete_series(id, "idle").ok());
  ASSERT_EQ(journal_->reprocess({job}).value(), 1);
  ASSERT_TRUE(journal_->claim_next(2)->has_value());
  SeriesMember member;
  member.series_instance_uid = "1.5.1";
  ASSERT_TRUE(journal_->mark_written(job, "/out/again", "2.25.1", {}, {}, &member).ok());
  EXPECT_TRUE(open_runs().empty());
  EXPECT_EQ(journal_->find_series(id)->value().received, 1);
}

}  // namespace
}  // namespace creni::journal
