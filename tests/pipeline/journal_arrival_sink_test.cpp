// The business side of both doors (#12 points 4, 5, 7): what an arrival becomes in the journal.
#include "creni/pipeline/journal_arrival_sink.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "dicom_factory.hpp"
#include "harness.hpp"

namespace creni::pipeline {
namespace {

class JournalArrivalSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = journal::Journal::open(dir_ / "journal.db");
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  ingest::Arrival folder_arrival(const std::filesystem::path& path) const {
    ingest::Arrival arrival;
    arrival.gateway_id = "1";
    arrival.path = path;
    return arrival;
  }

  harness::TempDir dir_{"sink"};
  std::unique_ptr<journal::Journal> journal_;
};

TEST_F(JournalArrivalSinkTest, a_file_that_vanished_before_it_was_taken_is_recorded_as_input_vanished) {
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {});
  const auto result = sink.accept(folder_arrival(dir_ / "gone.dcm"));
  EXPECT_EQ(result.outcome, ingest::AcceptOutcome::rejected);
  ASSERT_NE(result.job_id, 0);
  const auto job = journal_->find_job(result.job_id);
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ(job->value().state, journal::JobState::rejected);
  EXPECT_EQ(job->value().reason, "input_vanished");
}

TEST_F(JournalArrivalSinkTest, a_fifo_is_refused_without_being_opened_or_recorded) {
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {});
  ASSERT_EQ(::mkfifo((dir_ / "pipe.dcm").c_str(), 0644), 0);
  // Opening a FIFO without a writer for reading would block this thread for ever.
  const auto result = sink.accept(folder_arrival(dir_ / "pipe.dcm"));
  EXPECT_EQ(result.outcome, ingest::AcceptOutcome::rejected);
  EXPECT_EQ(result.reason, "not_regular_file");
  EXPECT_EQ(result.job_id, 0);
  EXPECT_EQ(journal_->count_in_state(journal::JobState::rejected).value(), 0);
}

TEST_F(JournalArrivalSinkTest, canonical_identity_is_asked_only_when_the_bytes_differ_and_decides_duplicates) {
  int asked = 0;
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {}, [&asked](const std::filesystem::path&) {
    ++asked;
    return Result<std::string>(std::string("same-content"));
  });
  testing::ImageSpec spec;
  spec.sop_instance_uid = "1.2.3.4";
  spec.study_instance_uid = "1.2.3";
  spec.series_instance_uid = "1.2.3.5";
  ASSERT_TRUE(testing::write_image(spec, dir_ / "a.dcm").ok());
  std::filesystem::copy_file(dir_ / "a.dcm", dir_ / "copy.dcm");
  spec.transfer_syntax = "1.2.840.10008.1.2";  // the same instance, implicit VR: other bytes
  ASSERT_TRUE(testing::write_image(spec, dir_ / "implicit.dcm").ok());

  EXPECT_EQ(sink.accept(folder_arrival(dir_ / "a.dcm")).outcome, ingest::AcceptOutcome::accepted);
  EXPECT_EQ(sink.accept(folder_arrival(dir_ / "copy.dcm")).outcome, ingest::AcceptOutcome::duplicate);
  EXPECT_EQ(asked, 0);  // the same bytes need no parsing
  EXPECT_EQ(sink.accept(folder_arrival(dir_ / "implicit.dcm")).outcome, ingest::AcceptOutcome::duplicate);
  EXPECT_EQ(asked, 2);  // the first job's identity (then kept) and the new one's
  EXPECT_EQ(journal_->count_in_state(journal::JobState::received).value(), 1);
}

TEST_F(JournalArrivalSinkTest, other_content_is_a_conflict_recorded_and_quarantined_once) {
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {}, [](const std::filesystem::path& file) {
    return Result<std::string>(file.filename().string());  // every file its own content
  });
  testing::ImageSpec spec;
  spec.sop_instance_uid = "1.2.3.4";
  ASSERT_TRUE(testing::write_image(spec, dir_ / "a.dcm").ok());
  spec.pixel = [](int, int row, int column, int) { return 1000 + row - column; };
  ASSERT_TRUE(testing::write_image(spec, dir_ / "b.dcm").ok());
  ASSERT_EQ(sink.accept(folder_arrival(dir_ / "a.dcm")).outcome, ingest::AcceptOutcome::accepted);
  const auto first = sink.accept(folder_arrival(dir_ / "b.dcm"));
  EXPECT_EQ(first.outcome, ingest::AcceptOutcome::conflict);
  EXPECT_EQ(ingest::dimse_status_for(first), ingest::kStatusConflictingInstance);
  std::filesystem::copy_file(dir_ / "b.dcm", dir_ / "b-again.dcm");
  const auto again = sink.accept(folder_arrival(dir_ / "b-again.dcm"));
  EXPECT_EQ(again.outcome, ingest::AcceptOutcome::conflict);
  EXPECT_EQ(again.job_id, first.job_id);
  EXPECT_EQ(journal_->count_in_state(journal::JobState::rejected).value(), 1);
  EXPECT_EQ(harness::files_below(dir_ / "quarantine").size(), 1u);
}


// [processing] non_image = "reject" is decided here, before a door acknowledges anything (issue 15).
TEST_F(JournalArrivalSinkTest, a_non_image_is_recorded_rejected_and_quarantined_where_the_gateway_rejects_them) {
  const auto policy = [](const std::string& gateway_id) {
    return gateway_id == "1" ? config::NonImagePolicy::reject : config::NonImagePolicy::pass;
  };
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {}, {}, policy);
  testing::ImageSpec sr;
  sr.with_pixel_data = false;
  sr.sop_class_uid = "1.2.840.10008.5.1.4.1.1.88.11";  // Basic Text SR
  sr.sop_instance_uid = "1.2.3.10";
  ASSERT_TRUE(testing::write_image(sr, dir_ / "sr.dcm").ok());
  const auto refused = sink.accept(folder_arrival(dir_ / "sr.dcm"));
  EXPECT_EQ(refused.outcome, ingest::AcceptOutcome::rejected);
  EXPECT_EQ(refused.reason, "not_an_image");
  EXPECT_EQ(ingest::dimse_status_for(refused), ingest::kStatusSopClassNotSupported);
  ASSERT_NE(refused.job_id, 0);
  const auto job = journal_->find_job(refused.job_id);
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ(job->value().state, journal::JobState::rejected);
  EXPECT_EQ(job->value().reason, "not_an_image");
  EXPECT_EQ(harness::files_below(dir_ / "quarantine").size(), 1u);

  // Another gateway passes them on; an image class is never asked about.
  ingest::Arrival elsewhere = folder_arrival(dir_ / "sr.dcm");
  elsewhere.gateway_id = "2";
  EXPECT_EQ(sink.accept(elsewhere).outcome, ingest::AcceptOutcome::accepted);
  testing::ImageSpec ct;
  ct.sop_instance_uid = "1.2.3.11";
  ASSERT_TRUE(testing::write_image(ct, dir_ / "ct.dcm").ok());
  EXPECT_EQ(sink.accept(folder_arrival(dir_ / "ct.dcm")).outcome, ingest::AcceptOutcome::accepted);
}

TEST_F(JournalArrivalSinkTest, a_private_class_is_an_image_when_its_data_set_has_pixel_data) {
  JournalArrivalSink sink(*journal_, dir_ / "quarantine", {}, {},
                          [](const std::string&) { return config::NonImagePolicy::reject; });
  testing::ImageSpec with_pixels;
  with_pixels.sop_class_uid = "1.3.46.670589.5.0.1";  // a vendor's private class
  with_pixels.sop_instance_uid = "1.2.3.20";
  ASSERT_TRUE(testing::write_image(with_pixels, dir_ / "private-image.dcm").ok());
  testing::ImageSpec without = with_pixels;
  without.with_pixel_data = false;
  without.sop_instance_uid = "1.2.3.21";
  ASSERT_TRUE(testing::write_image(without, dir_ / "private-other.dcm").ok());
  EXPECT_EQ(sink.accept(folder_arrival(dir_ / "private-image.dcm")).outcome, ingest::AcceptOutcome::accepted);
  const auto refused = sink.accept(folder_arrival(dir_ / "private-other.dcm"));
  EXPECT_EQ(refused.outcome, ingest::AcceptOutcome::rejected);
  EXPECT_EQ(refused.reason, "not_an_image");
}

}  // namespace
}  // namespace creni::pipeline
