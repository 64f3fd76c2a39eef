#include "creni/journal/journal.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "harness.hpp"

namespace creni::journal {
namespace {

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

constexpr std::int64_t kOneHourMs = 3'600'000;

class Journal : public ::testing::Test {
 protected:
  void SetUp() override { reopen(); }

  void reopen() {
    journal_.reset();
    auto opened = journal::Journal::open(file_);
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  static NewArrival arrival(const std::string& name, const std::string& sop, const std::string& hash,
                            const std::string& gateway = "1") {
    NewArrival arrival;
    arrival.gateway_id = gateway;
    arrival.source = Source::folder;
    arrival.input_path = "/in/gateway_" + gateway + "/" + name;
    arrival.sop_instance_uid = sop;
    arrival.content_hash = hash;
    return arrival;
  }

  // The arrival of an instance whose canonical content identity was computed (`canonical`).
  static NewArrival encoded(const std::string& name, const std::string& hash, const std::string& canonical) {
    NewArrival new_arrival = arrival(name, "1.2.3", hash);
    new_arrival.canonical_hash = canonical;
    return new_arrival;
  }

  std::int64_t created(const NewArrival& new_arrival) {
    auto recorded = journal_->record_arrival(new_arrival);
    EXPECT_TRUE(recorded.ok()) << recorded.error().describe();
    EXPECT_EQ(recorded->outcome, ArrivalOutcome::created);
    return recorded->job_id;
  }

  Job claim(int max_attempts = 2) {
    auto claimed = journal_->claim_next(max_attempts);
    EXPECT_TRUE(claimed.ok()) << claimed.error().describe();
    EXPECT_TRUE(claimed->has_value());
    return claimed->value_or(Job{});
  }

  Job job(std::int64_t id) {
    auto found = journal_->find_job(id);
    EXPECT_TRUE(found.ok());
    EXPECT_TRUE(found->has_value()) << "no job " << id;
    return found->value_or(Job{});
  }

  // A job taken through processing to written with the given destinations.
  std::int64_t written_job(const std::string& name, const std::vector<std::string>& destinations) {
    const std::int64_t id = created(arrival(name, "1.2." + std::to_string(++uid_counter_), "hash-" + name));
    const Job claimed = claim();
    EXPECT_EQ(claimed.id, id);
    EXPECT_TRUE(journal_->mark_written(id, "/out/" + name, "2.25." + std::to_string(uid_counter_), destinations).ok());
    return id;
  }

  ForwardTask claim_forward(const std::string& destination) {
    auto claimed = journal_->claim_forward(destination);
    EXPECT_TRUE(claimed.ok()) << claimed.error().describe();
    EXPECT_TRUE(claimed->has_value()) << "nothing to forward to " << destination;
    return claimed->value_or(ForwardTask{});
  }

  bool nothing_due_for(const std::string& destination) {
    auto claimed = journal_->claim_forward(destination);
    EXPECT_TRUE(claimed.ok());
    return claimed.ok() && !claimed->has_value();
  }

  Forward only_forward_of(std::int64_t job_id) {
    auto forwards = journal_->forwards_of(job_id);
    EXPECT_TRUE(forwards.ok());
    EXPECT_EQ(forwards->size(), 1U);
    return forwards->empty() ? Forward{} : forwards->front();
  }

  harness::TempDir dir_{"creni-journal"};
  std::filesystem::path file_ = dir_ / "journal.db";
  std::unique_ptr<journal::Journal> journal_;
  int uid_counter_ = 0;
};

const ForwardOutcome kSent{ForwardState::done, "store", "stored", 0x0000};
const ForwardOutcome kRefused{ForwardState::forward_failed, "associate", "association rejected", -1};
const ForwardOutcome kNoAnswer{ForwardState::forward_unknown, "store", "no response within 30 s", -1};

// One entry of a batch for record_forward_outcomes_and_claim.
ForwardResult forward_result(std::int64_t task_id, const ForwardOutcome& outcome,
                             std::optional<std::int64_t> retry_at_ms = std::nullopt) {
  ForwardResult result;
  result.task_id = task_id;
  result.outcome = outcome;
  result.retry_at_ms = retry_at_ms;
  return result;
}

TEST(JournalStates, names_round_trip) {
  for (JobState state : {JobState::received, JobState::processing, JobState::written, JobState::forwarding,
                         JobState::done, JobState::rejected, JobState::forward_failed, JobState::forward_unknown}) {
    EXPECT_EQ(parse_job_state(to_string(state)), state);
  }
  for (ForwardState state : {ForwardState::waiting, ForwardState::forwarding, ForwardState::done,
                             ForwardState::forward_failed, ForwardState::forward_unknown}) {
    EXPECT_EQ(parse_forward_state(to_string(state)), state);
  }
  EXPECT_FALSE(parse_job_state("Received").has_value());
  EXPECT_EQ(to_string(Source::scp), "scp");
  EXPECT_EQ(to_string(Source::folder), "folder");
}

TEST_F(Journal, a_new_arrival_becomes_a_received_job) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  const Job stored = job(id);
  EXPECT_EQ(stored.state, JobState::received);
  EXPECT_EQ(stored.gateway_id, "1");
  EXPECT_EQ(stored.input_path, "/in/gateway_1/a.dcm");
  EXPECT_EQ(stored.sop_instance_uid, "1.2.3");
  EXPECT_EQ(stored.content_hash, "h1");
  EXPECT_EQ(stored.attempts, 0);
  EXPECT_GT(stored.created_at_ms, 0);
  EXPECT_EQ(stored.updated_at_ms, stored.created_at_ms);
}

TEST_F(Journal, same_file_seen_twice_gives_the_same_job) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  auto again = journal_->record_arrival(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ArrivalOutcome::same_file);
  EXPECT_EQ(again->job_id, id);
  EXPECT_EQ(journal_->count_in_state(JobState::received).value(), 1);
}

TEST_F(Journal, same_file_is_recognised_even_after_the_job_was_rejected) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(journal_->mark_rejected(id, "not_dicom", "no preamble").ok());
  auto again = journal_->record_arrival(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ArrivalOutcome::same_file);
  EXPECT_EQ(again->job_id, id);
}

TEST_F(Journal, a_file_replaced_with_other_bytes_at_the_same_path_is_new_work) {
  const std::int64_t first = created(arrival("a.dcm", "", "h1"));
  const std::int64_t second = created(arrival("a.dcm", "", "h2"));
  EXPECT_NE(first, second);
}

TEST_F(Journal, the_same_instance_with_the_same_bytes_elsewhere_is_a_duplicate) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  NewArrival from_scp = arrival("spool/1.2.3", "1.2.3", "h1");
  from_scp.source = Source::scp;
  auto duplicate = journal_->record_arrival(from_scp);
  ASSERT_TRUE(duplicate.ok());
  EXPECT_EQ(duplicate->outcome, ArrivalOutcome::duplicate);
  EXPECT_EQ(duplicate->job_id, id);
  EXPECT_EQ(journal_->count_in_state(JobState::received).value(), 1);
  EXPECT_EQ(journal_->count_in_state(JobState::rejected).value(), 0);
}

TEST_F(Journal, the_same_instance_with_other_bytes_is_a_conflict_recorded_as_rejected) {
  const std::int64_t first = created(arrival("a.dcm", "1.2.3", "h1"));
  auto conflict = journal_->record_arrival(arrival("b.dcm", "1.2.3", "h2"));
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->outcome, ArrivalOutcome::conflict);
  EXPECT_NE(conflict->job_id, first);
  const Job rejected = job(conflict->job_id);
  EXPECT_EQ(rejected.state, JobState::rejected);
  EXPECT_EQ(rejected.reason, "conflict");
  EXPECT_EQ(rejected.detail,
            "SOP Instance UID already received with other content (job " + std::to_string(first) + ")");
  EXPECT_EQ(rejected.input_path, "/in/gateway_1/b.dcm");
  EXPECT_EQ(job(first).state, JobState::received);
}

TEST_F(Journal, a_rejected_job_does_not_block_its_instance_from_coming_again) {
  const std::int64_t first = created(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(journal_->mark_rejected(first, "invalid_uid", "bad").ok());
  const std::int64_t second = created(arrival("b.dcm", "1.2.3", "h2"));
  EXPECT_NE(first, second);
}

TEST_F(Journal, the_same_instance_in_another_gateway_is_separate_work) {
  const std::int64_t first = created(arrival("a.dcm", "1.2.3", "h1", "1"));
  const std::int64_t second = created(arrival("a.dcm", "1.2.3", "h1", "2"));
  EXPECT_NE(first, second);
}

TEST_F(Journal, arrivals_without_a_sop_instance_uid_are_never_duplicates) {
  const std::int64_t first = created(arrival("a.dcm", "", "h1"));
  const std::int64_t second = created(arrival("b.dcm", "", "h1"));
  EXPECT_NE(first, second);
}

TEST_F(Journal, a_refused_arrival_is_recorded_rejected_with_its_reason) {
  auto id = journal_->record_rejected_arrival(arrival("link.dcm", "", "h0"), "symlink", "symbolic links are refused");
  ASSERT_TRUE(id.ok());
  const Job rejected = job(id.value());
  EXPECT_EQ(rejected.state, JobState::rejected);
  EXPECT_EQ(rejected.reason, "symlink");
  EXPECT_EQ(rejected.detail, "symbolic links are refused");
  auto claimed = journal_->claim_next(2);
  ASSERT_TRUE(claimed.ok());
  EXPECT_FALSE(claimed->has_value());
}

TEST_F(Journal, claim_takes_the_oldest_job_and_counts_the_attempt) {
  const std::int64_t first = created(arrival("a.dcm", "1.1", "h1"));
  const std::int64_t second = created(arrival("b.dcm", "1.2", "h2"));
  const Job claimed = claim();
  EXPECT_EQ(claimed.id, first);
  EXPECT_EQ(claimed.state, JobState::processing);
  EXPECT_EQ(claimed.attempts, 1);
  EXPECT_EQ(job(first).attempts, 1);
  EXPECT_EQ(job(first).state, JobState::processing);
  EXPECT_EQ(claim().id, second);
  auto none = journal_->claim_next(2);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(Journal, a_job_returned_to_received_is_claimed_again_with_another_attempt) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  claim(3);
  ASSERT_TRUE(journal_->return_to_received(id, "worker_crashed", "signal 11").ok());
  const Job returned = job(id);
  EXPECT_EQ(returned.state, JobState::received);
  EXPECT_EQ(returned.reason, "worker_crashed");
  EXPECT_EQ(returned.detail, "signal 11");
  EXPECT_EQ(claim(3).attempts, 2);
}

TEST_F(Journal, a_job_that_failed_max_attempts_times_becomes_poison) {
  const std::int64_t poison = created(arrival("a.dcm", "1.1", "h1"));
  for (int attempt = 1; attempt <= 2; ++attempt) {
    const Job claimed = claim(2);
    ASSERT_EQ(claimed.id, poison);
    ASSERT_TRUE(journal_->return_to_received(poison, "worker_crashed", "killed by signal 11").ok());
  }
  const std::int64_t healthy = created(arrival("b.dcm", "1.2", "h2"));
  // Fresh work goes first (ClaimOrder); the claim after it rejects the poison job instead of handing it out.
  EXPECT_EQ(claim(2).id, healthy);
  auto none = journal_->claim_next(2);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  const Job rejected = job(poison);
  EXPECT_EQ(rejected.state, JobState::rejected);
  EXPECT_EQ(rejected.reason, "poison");
  EXPECT_EQ(rejected.detail, "worker failed 2 times: killed by signal 11");
  EXPECT_EQ(rejected.attempts, 2);
}

TEST_F(Journal, return_to_received_needs_a_processing_job) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  const Status status = journal_->return_to_received(id, "x", "y");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "invalid_transition");
  const Status missing = journal_->return_to_received(id + 100, "x", "y");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
}

TEST_F(Journal, recover_puts_processing_jobs_back_and_keeps_their_attempt) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  claim();
  reopen();  // as after a crash: the job was left processing
  auto recovered = journal_->recover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->processing_requeued, 1);
  EXPECT_EQ(recovered->forwarding_unknown, 0);
  const Job requeued = job(id);
  EXPECT_EQ(requeued.state, JobState::received);
  EXPECT_EQ(requeued.attempts, 1);
  EXPECT_EQ(claim().attempts, 2);
}

TEST_F(Journal, recover_turns_a_forward_in_flight_into_forward_unknown_that_is_never_sent_again) {
  const std::int64_t id = written_job("a", {"pacs"});
  const ForwardTask task = claim_forward("pacs");
  EXPECT_EQ(job(id).state, JobState::forwarding);
  reopen();
  auto recovered = journal_->recover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->forwarding_unknown, 1);
  const Forward forward = only_forward_of(id);
  EXPECT_EQ(forward.id, task.id);
  EXPECT_EQ(forward.state, ForwardState::forward_unknown);
  EXPECT_EQ(forward.attempts, 1);
  EXPECT_EQ(job(id).state, JobState::forward_unknown);
  EXPECT_TRUE(nothing_due_for("pacs"));
  // A second recovery finds nothing left to do.
  auto again = journal_->recover();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->forwarding_unknown, 0);
  EXPECT_TRUE(nothing_due_for("pacs"));
}

TEST_F(Journal, written_without_destinations_is_the_end) {
  const std::int64_t id = written_job("a", {});
  const Job written = job(id);
  EXPECT_EQ(written.state, JobState::written);
  EXPECT_EQ(written.output_path, "/out/a");
  EXPECT_FALSE(written.result_sop_instance_uid.empty());
  EXPECT_TRUE(journal_->forwards_of(id)->empty());
  EXPECT_TRUE(nothing_due_for("pacs"));
}

TEST_F(Journal, mark_written_needs_a_processing_job) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  const Status status = journal_->mark_written(id, "/out/a", "2.25.1", {"pacs"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, "invalid_transition");
  EXPECT_TRUE(journal_->forwards_of(id)->empty());
  const Status missing = journal_->mark_written(9999, "/out/a", "2.25.1", {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
}

TEST_F(Journal, mark_rejected_ends_a_received_or_processing_job_only) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  claim();
  ASSERT_TRUE(journal_->mark_rejected(id, "not_dicom", "no DICM").ok());
  EXPECT_EQ(job(id).reason, "not_dicom");
  const Status again = journal_->mark_rejected(id, "x", "y");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "invalid_transition");
}

TEST_F(Journal, a_job_with_destinations_follows_its_forwards_to_done) {
  const std::int64_t id = written_job("a", {"pacs", "archive", "pacs"});
  ASSERT_EQ(journal_->forwards_of(id)->size(), 2U);  // a destination listed twice is sent once
  EXPECT_EQ(job(id).state, JobState::written);

  const ForwardTask to_pacs = claim_forward("pacs");
  EXPECT_EQ(to_pacs.job_id, id);
  EXPECT_EQ(to_pacs.gateway_id, "1");
  EXPECT_EQ(to_pacs.destination, "pacs");
  EXPECT_EQ(to_pacs.output_path, "/out/a");
  EXPECT_EQ(to_pacs.result_sop_instance_uid, job(id).result_sop_instance_uid);
  EXPECT_EQ(to_pacs.attempts, 1);
  EXPECT_EQ(job(id).state, JobState::forwarding);
  EXPECT_TRUE(nothing_due_for("pacs"));

  ASSERT_TRUE(journal_->record_forward_outcome(to_pacs.id, kSent).ok());
  EXPECT_EQ(job(id).state, JobState::forwarding);  // archive still waiting
  const ForwardTask to_archive = claim_forward("archive");
  ASSERT_TRUE(journal_->record_forward_outcome(to_archive.id, kSent).ok());
  EXPECT_EQ(job(id).state, JobState::done);
}

TEST_F(Journal, a_burst_of_forwards_is_claimed_oldest_first_up_to_the_limit_each_with_its_attempt_counted) {
  const std::int64_t a = written_job("a", {"pacs"});
  const std::int64_t b = written_job("b", {"pacs"});
  const std::int64_t c = written_job("c", {"pacs"});
  auto claimed = journal_->claim_forwards("pacs", 2);
  ASSERT_TRUE(claimed.ok()) << claimed.error().describe();
  ASSERT_EQ(claimed->size(), 2U);
  EXPECT_EQ((*claimed)[0].job_id, a);
  EXPECT_EQ((*claimed)[1].job_id, b);
  for (const ForwardTask& task : *claimed) {
    EXPECT_EQ(task.attempts, 1);
    EXPECT_EQ(task.job_created_at_ms, job(task.job_id).created_at_ms);
    EXPECT_EQ(only_forward_of(task.job_id).state, ForwardState::forwarding);
    EXPECT_EQ(job(task.job_id).state, JobState::forwarding);
  }
  EXPECT_EQ(only_forward_of(c).state, ForwardState::waiting);
  EXPECT_EQ(journal_->claim_forwards("archive", 8)->size(), 0U);
}

TEST_F(Journal, outcomes_of_a_batch_are_recorded_in_the_commit_that_claims_the_next) {
  const std::int64_t a = written_job("a", {"pacs"});
  const std::int64_t b = written_job("b", {"pacs"});
  const std::int64_t c = written_job("c", {"pacs"});
  const auto first = journal_->claim_forwards("pacs", 2).value();
  ASSERT_EQ(first.size(), 2U);
  auto next = journal_->record_forward_outcomes_and_claim(
      {forward_result(first[0].id, kSent), forward_result(first[1].id, kRefused, epoch_ms() + kOneHourMs)},
      "pacs", 8);
  ASSERT_TRUE(next.ok()) << next.error().describe();
  EXPECT_EQ(job(a).state, JobState::done);
  EXPECT_EQ(only_forward_of(b).state, ForwardState::waiting);  // retried in an hour: not claimed now
  ASSERT_EQ(next->size(), 1U);
  EXPECT_EQ(next->front().job_id, c);
  EXPECT_EQ(only_forward_of(c).state, ForwardState::forwarding);

  // One outcome that cannot be recorded (c's forward recorded twice) leaves everything as it was.
  const std::int64_t d = written_job("d", {"pacs"});
  auto refused = journal_->record_forward_outcomes_and_claim(
      {forward_result(next->front().id, kSent), forward_result(next->front().id, kSent)},
      "pacs", 8);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "invalid_transition");
  EXPECT_EQ(only_forward_of(c).state, ForwardState::forwarding);
  EXPECT_EQ(only_forward_of(d).state, ForwardState::waiting);
}

TEST_F(Journal, folder_arrivals_recorded_without_a_sync_are_decided_and_kept_like_any_other) {
  auto recorded = journal_->record_arrivals_unsynced(
      {arrival("a", "1.2.1", "hash-a"), arrival("b", "1.2.2", "hash-b"), arrival("a", "1.2.1", "hash-a"),
       arrival("c", "1.2.2", "hash-other")});
  ASSERT_TRUE(recorded.ok()) << recorded.error().describe();
  ASSERT_EQ(recorded->size(), 4U);
  EXPECT_EQ((*recorded)[0].outcome, ArrivalOutcome::created);
  EXPECT_EQ((*recorded)[1].outcome, ArrivalOutcome::created);
  EXPECT_EQ((*recorded)[2].outcome, ArrivalOutcome::same_file);
  EXPECT_EQ((*recorded)[3].outcome, ArrivalOutcome::conflict);
  auto claimed = journal_->claim_next_unsynced(2);
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  EXPECT_EQ((*claimed)->id, (*recorded)[0].job_id);
  EXPECT_EQ((*claimed)->attempts, 1);
  // Like a node killed here: the rows are in the log, and the next connection sees them.
  reopen();
  EXPECT_EQ(job((*recorded)[0].job_id).state, JobState::processing);
  EXPECT_EQ(job((*recorded)[1].job_id).state, JobState::received);
  EXPECT_EQ(job((*recorded)[3].job_id).state, JobState::rejected);
}

TEST_F(Journal, one_unknown_forward_makes_the_job_forward_unknown) {
  const std::int64_t id = written_job("a", {"pacs", "archive"});
  const ForwardTask to_pacs = claim_forward("pacs");
  const ForwardTask to_archive = claim_forward("archive");
  ASSERT_TRUE(journal_->record_forward_outcome(to_pacs.id, kNoAnswer).ok());
  EXPECT_EQ(job(id).state, JobState::forwarding);
  ASSERT_TRUE(journal_->record_forward_outcome(to_archive.id, kRefused).ok());
  EXPECT_EQ(job(id).state, JobState::forward_unknown);
}

TEST_F(Journal, a_failed_forward_without_retry_makes_the_job_forward_failed) {
  const std::int64_t id = written_job("a", {"pacs", "archive"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kRefused).ok());
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("archive").id, kSent).ok());
  EXPECT_EQ(job(id).state, JobState::forward_failed);
  const auto forwards = journal_->forwards_of(id).value();
  EXPECT_EQ(forwards[0].state, ForwardState::forward_failed);
  EXPECT_EQ(forwards[0].phase, "associate");
  EXPECT_EQ(forwards[0].detail, "association rejected");
  EXPECT_EQ(forwards[1].dimse_status, 0);
}

TEST_F(Journal, a_failed_forward_with_a_retry_time_waits_until_then) {
  const std::int64_t later = written_job("later", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kRefused, epoch_ms() + kOneHourMs).ok());
  const Forward waiting = only_forward_of(later);
  EXPECT_EQ(waiting.state, ForwardState::waiting);
  EXPECT_EQ(waiting.detail, "association rejected");
  ASSERT_TRUE(waiting.next_attempt_at_ms.has_value());
  EXPECT_GT(*waiting.next_attempt_at_ms, epoch_ms());
  EXPECT_EQ(job(later).state, JobState::forwarding);
  EXPECT_TRUE(nothing_due_for("pacs"));

  const std::int64_t due = written_job("due", {"pacs"});
  const ForwardTask first = claim_forward("pacs");
  ASSERT_EQ(first.job_id, due);
  ASSERT_TRUE(journal_->record_forward_outcome(first.id, kRefused, epoch_ms() - 1).ok());
  const ForwardTask retried = claim_forward("pacs");
  EXPECT_EQ(retried.id, first.id);
  EXPECT_EQ(retried.attempts, 2);
  EXPECT_TRUE(nothing_due_for("pacs"));  // `later` is still not due
}

TEST_F(Journal, an_unknown_forward_never_goes_back_to_waiting_even_with_a_retry_time) {
  const std::int64_t id = written_job("a", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kNoAnswer, epoch_ms() - 1).ok());
  EXPECT_EQ(only_forward_of(id).state, ForwardState::forward_unknown);
  EXPECT_EQ(job(id).state, JobState::forward_unknown);
  EXPECT_TRUE(nothing_due_for("pacs"));
}

TEST_F(Journal, an_outcome_needs_a_forward_in_flight_and_a_final_state) {
  const std::int64_t id = written_job("a", {"pacs"});
  const std::int64_t forward_id = only_forward_of(id).id;
  const Status not_claimed = journal_->record_forward_outcome(forward_id, kSent);
  ASSERT_FALSE(not_claimed.ok());
  EXPECT_EQ(not_claimed.error().code, "invalid_transition");

  const ForwardTask task = claim_forward("pacs");
  const Status not_final =
      journal_->record_forward_outcome(task.id, ForwardOutcome{ForwardState::waiting, "", "", -1});
  ASSERT_FALSE(not_final.ok());
  EXPECT_EQ(not_final.error().code, "invalid_transition");
  ASSERT_TRUE(journal_->record_forward_outcome(task.id, kSent).ok());
  const Status twice = journal_->record_forward_outcome(task.id, kSent);
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, "invalid_transition");

  const Status missing = journal_->record_forward_outcome(task.id + 100, kSent);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "not_found");
}

TEST_F(Journal, reprocess_sends_finished_jobs_back_to_received_from_scratch) {
  const std::int64_t rejected = created(arrival("r.dcm", "1.9", "hr"));
  ASSERT_TRUE(journal_->mark_rejected(rejected, "not_dicom", "x").ok());
  const std::int64_t forwarded = written_job("f", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kNoAnswer).ok());
  const std::int64_t waiting = created(arrival("w.dcm", "1.8", "hw"));

  auto changed = journal_->reprocess({rejected, forwarded, waiting});
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed.value(), 2);
  for (const std::int64_t id : {rejected, forwarded}) {
    const Job back = job(id);
    EXPECT_EQ(back.state, JobState::received);
    EXPECT_EQ(back.attempts, 0);
    EXPECT_TRUE(back.output_path.empty());
  }
  EXPECT_TRUE(journal_->forwards_of(forwarded)->empty());
  EXPECT_EQ(job(waiting).state, JobState::received);
  EXPECT_EQ(job(waiting).detail, "");
}

TEST_F(Journal, an_operator_command_with_an_unknown_id_changes_nothing) {
  const std::int64_t id = created(arrival("a.dcm", "1.1", "h1"));
  ASSERT_TRUE(journal_->mark_rejected(id, "not_dicom", "x").ok());
  auto reprocessed = journal_->reprocess({id, id + 100});
  ASSERT_FALSE(reprocessed.ok());
  EXPECT_EQ(reprocessed.error().code, "not_found");
  EXPECT_EQ(job(id).state, JobState::rejected);
  EXPECT_EQ(journal_->discard({id + 100}).error().code, "not_found");
  EXPECT_EQ(journal_->resend({id + 100}).error().code, "not_found");
}

TEST_F(Journal, discard_rejects_waiting_jobs_so_they_are_never_processed) {
  const std::int64_t done = written_job("c", {});
  const std::int64_t waiting = created(arrival("a.dcm", "1.1", "h1"));
  const std::int64_t rejected = created(arrival("b.dcm", "1.2", "h2"));
  ASSERT_TRUE(journal_->mark_rejected(rejected, "not_dicom", "x").ok());

  auto discarded = journal_->discard({waiting, rejected, done});
  ASSERT_TRUE(discarded.ok());
  EXPECT_EQ(discarded.value(), 2);
  EXPECT_EQ(job(waiting).state, JobState::rejected);
  EXPECT_EQ(job(waiting).reason, "discarded");
  EXPECT_EQ(job(rejected).reason, "discarded");
  EXPECT_EQ(job(done).state, JobState::written);
  auto claimed = journal_->claim_next(2);
  ASSERT_TRUE(claimed.ok());
  EXPECT_FALSE(claimed->has_value());
}

TEST_F(Journal, resend_queues_failed_and_unknown_forwards_again_keeping_their_attempts) {
  const std::int64_t failed = written_job("a", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kRefused).ok());
  const std::int64_t unknown = written_job("b", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kNoAnswer).ok());
  const std::int64_t sent = written_job("c", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kSent).ok());

  auto resent = journal_->resend({failed, unknown, sent});
  ASSERT_TRUE(resent.ok());
  EXPECT_EQ(resent.value(), 2);
  for (const std::int64_t id : {failed, unknown}) {
    const Forward forward = only_forward_of(id);
    EXPECT_EQ(forward.state, ForwardState::waiting);
    EXPECT_EQ(forward.detail, "resend by operator");
    EXPECT_EQ(forward.attempts, 1);
    EXPECT_EQ(job(id).state, JobState::forwarding);
  }
  EXPECT_EQ(only_forward_of(sent).state, ForwardState::done);
  EXPECT_EQ(job(sent).state, JobState::done);
  EXPECT_EQ(claim_forward("pacs").job_id, failed);
  EXPECT_EQ(claim_forward("pacs").attempts, 2);
  EXPECT_TRUE(nothing_due_for("pacs"));
}

TEST_F(Journal, report_counts_jobs_and_forwards_and_lists_recent_errors) {
  // Forwarded jobs first: written_job claims the oldest received job.
  const std::int64_t sent = written_job("f1", {"pacs"});
  const std::int64_t troubled = written_job("f2", {"pacs", "archive"});
  const std::int64_t queued = written_job("f3", {"pacs"});
  ASSERT_EQ(claim_forward("pacs").job_id, sent);
  ASSERT_TRUE(journal_->record_forward_outcome(only_forward_of(sent).id, kSent).ok());
  const ForwardTask troubled_pacs = claim_forward("pacs");
  ASSERT_EQ(troubled_pacs.job_id, troubled);
  ASSERT_TRUE(journal_->record_forward_outcome(troubled_pacs.id, kRefused, epoch_ms() + kOneHourMs).ok());
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("archive").id, kNoAnswer).ok());

  const std::int64_t oldest_waiting = created(arrival("a.dcm", "1.1", "h1", "1"));
  created(arrival("b.dcm", "1.2", "h2", "2"));
  created(arrival("c.dcm", "1.3", "h3", "2"));
  const std::int64_t first_rejected = created(arrival("d.dcm", "1.4", "h4", "1"));
  ASSERT_TRUE(journal_->mark_rejected(first_rejected, "not_dicom", "first").ok());
  const std::int64_t second_rejected = created(arrival("e.dcm", "1.5", "h5", "1"));
  ASSERT_TRUE(journal_->mark_rejected(second_rejected, "invalid_uid", "second").ok());

  auto report = journal_->report();
  ASSERT_TRUE(report.ok()) << report.error().describe();
  const auto count_of = [&report](const std::string& gateway, const std::string& state) -> std::int64_t {
    for (const CountByState& count : report->counts) {
      if (count.gateway_id == gateway && count.state == state) return count.count;
    }
    return 0;
  };
  EXPECT_EQ(count_of("1", "done"), 1);
  EXPECT_EQ(count_of("1", "forwarding"), 1);
  EXPECT_EQ(count_of("1", "written"), 1);
  EXPECT_EQ(count_of("1", "received"), 1);
  EXPECT_EQ(count_of("1", "rejected"), 2);
  EXPECT_EQ(count_of("2", "received"), 2);
  EXPECT_EQ(report->counts.size(), 6U);
  EXPECT_EQ(job(queued).state, JobState::written);

  ASSERT_TRUE(report->oldest_waiting.has_value());
  EXPECT_EQ(report->oldest_waiting->id, oldest_waiting);
  ASSERT_EQ(report->last_errors.size(), 2U);
  EXPECT_EQ(report->last_errors[0].id, second_rejected);
  EXPECT_EQ(report->last_errors[1].id, first_rejected);

  ASSERT_EQ(report->destinations.size(), 2U);
  const DestinationCounts& archive = report->destinations[0];
  EXPECT_EQ(archive.destination, "archive");
  EXPECT_EQ(archive.unknown, 1);
  EXPECT_EQ(archive.sent + archive.failed + archive.waiting, 0);
  EXPECT_EQ(archive.last_error, "store: no response within 30 s");
  const DestinationCounts& pacs = report->destinations[1];
  EXPECT_EQ(pacs.destination, "pacs");
  EXPECT_EQ(pacs.sent, 1);
  EXPECT_EQ(pacs.waiting, 2);
  EXPECT_EQ(pacs.failed + pacs.unknown, 0);
  EXPECT_EQ(pacs.last_error, "associate: association rejected");
}

TEST_F(Journal, report_lists_at_most_ten_errors_newest_first) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    auto id = journal_->record_rejected_arrival(arrival("r" + std::to_string(i), "", "h"), "not_dicom", "x");
    ASSERT_TRUE(id.ok());
    ids.push_back(id.value());
  }
  auto report = journal_->report();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->last_errors.size(), 10U);
  EXPECT_EQ(report->last_errors.front().id, ids.back());
  EXPECT_FALSE(report->oldest_waiting.has_value());
  EXPECT_TRUE(report->destinations.empty());
}

TEST_F(Journal, jobs_in_state_lists_oldest_first_within_the_limit) {
  const std::int64_t first = created(arrival("a.dcm", "1.1", "h1"));
  const std::int64_t second = created(arrival("b.dcm", "1.2", "h2"));
  created(arrival("c.dcm", "1.3", "h3"));
  auto two = journal_->jobs_in_state(JobState::received, 2);
  ASSERT_TRUE(two.ok());
  ASSERT_EQ(two->size(), 2U);
  EXPECT_EQ((*two)[0].id, first);
  EXPECT_EQ((*two)[1].id, second);
  EXPECT_EQ(journal_->jobs_in_state(JobState::received, -1)->size(), 3U);
  EXPECT_TRUE(journal_->jobs_in_state(JobState::done, 10)->empty());
  EXPECT_EQ(journal_->count_in_state(JobState::received).value(), 3);
  EXPECT_FALSE(journal_->find_job(first + 100)->has_value());
}

TEST_F(Journal, everything_survives_closing_and_reopening) {
  const std::int64_t id = written_job("a", {"pacs"});
  const ForwardTask task = claim_forward("pacs");
  ASSERT_TRUE(journal_->record_forward_outcome(task.id, kRefused, epoch_ms() + kOneHourMs).ok());
  const std::int64_t waiting = created(arrival("b.dcm", "1.2", "h2"));
  const Job before = job(id);

  journal_.reset();
  reopen();
  const Job after = job(id);
  EXPECT_EQ(after.state, before.state);
  EXPECT_EQ(after.output_path, before.output_path);
  EXPECT_EQ(after.result_sop_instance_uid, before.result_sop_instance_uid);
  EXPECT_EQ(after.updated_at_ms, before.updated_at_ms);
  const Forward forward = only_forward_of(id);
  EXPECT_EQ(forward.state, ForwardState::waiting);
  EXPECT_EQ(forward.attempts, 1);
  EXPECT_EQ(forward.detail, "association rejected");
  EXPECT_EQ(job(waiting).state, JobState::received);
  auto again = journal_->record_arrival(arrival("b.dcm", "1.2", "h2"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ArrivalOutcome::same_file);
}

TEST_F(Journal, open_refuses_a_journal_from_a_newer_version) {
  journal_.reset();
  {
    auto connection = sqlite::Connection::open(file_);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection->set_user_version(99).ok());
  }
  auto opened = journal::Journal::open(file_);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.error().code, "unsupported_schema");
}

TEST_F(Journal, a_deferred_job_gives_its_attempt_back_and_waits_for_its_time) {
  const std::int64_t later = created(arrival("later.dcm", "1.7.1", "h1"));
  const std::int64_t soon = created(arrival("soon.dcm", "1.7.2", "h2"));
  EXPECT_EQ(claim().id, later);
  ASSERT_TRUE(journal_->defer(later, "io_error", "disk full", std::chrono::hours(1)).ok());
  const Job deferred = job(later);
  EXPECT_EQ(deferred.state, JobState::received);
  EXPECT_EQ(deferred.attempts, 0);
  EXPECT_EQ(deferred.reason, "io_error");
  // Not claimable before its time: the next job goes first, then nothing is due.
  EXPECT_EQ(claim().id, soon);
  auto nothing = journal_->claim_next(2);
  ASSERT_TRUE(nothing.ok());
  EXPECT_FALSE(nothing->has_value());
  // Deferred again and again, a job never becomes poison; once due, it is claimed.
  const std::int64_t again = created(arrival("again.dcm", "1.7.3", "h3"));
  for (int round = 0; round < 3; ++round) {
    EXPECT_EQ(claim().id, again);
    ASSERT_TRUE(journal_->defer(again, "io_error", "disk full", std::chrono::milliseconds(0)).ok());
  }
  EXPECT_EQ(claim().id, again);
  EXPECT_EQ(job(again).attempts, 1);
  // Only a job in processing can be deferred.
  EXPECT_FALSE(journal_->defer(later, "io_error", "x", std::chrono::milliseconds(0)).ok());
}

// RELIABILITY D5: retry times are wall-clock times (they survive restarts). Rows scheduled by a clock that was
// ahead of the current one, as after the clock is set back, are due now instead of an hour or more late.
TEST_F(Journal, retries_scheduled_before_the_clock_went_back_are_due_at_once) {
  const std::int64_t deferred = created(arrival("deferred.dcm", "1.9.1", "h1"));
  EXPECT_EQ(claim().id, deferred);
  ASSERT_TRUE(journal_->defer(deferred, "io_error", "disk full", std::chrono::seconds(30)).ok());
  const std::int64_t forwarded = written_job("forwarded", {"pacs"});
  ASSERT_TRUE(journal_->record_forward_outcome(claim_forward("pacs").id, kRefused, epoch_ms() + 30000).ok());
  EXPECT_FALSE(journal_->claim_next(2)->has_value());
  EXPECT_TRUE(nothing_due_for("pacs"));

  journal_.reset();
  {
    // As if both had been scheduled an hour ago by a clock that ran two hours ahead.
    auto connection = sqlite::Connection::open(file_);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection
                    ->exec("UPDATE jobs SET updated_at_ms = updated_at_ms + 3600000, "
                           "retry_at_ms = retry_at_ms + 3600000 WHERE id = " + std::to_string(deferred) + ";"
                           "UPDATE forwards SET updated_at_ms = updated_at_ms + 3600000, "
                           "next_attempt_at_ms = next_attempt_at_ms + 3600000 WHERE job_id = " +
                           std::to_string(forwarded))
                    .ok());
  }
  reopen();
  EXPECT_EQ(claim().id, deferred);
  EXPECT_EQ(claim_forward("pacs").job_id, forwarded);
}

TEST_F(Journal, a_version_1_journal_is_upgraded_in_place_and_its_results_count_as_indexed) {
  const std::int64_t id = written_job("old.dcm", {});
  journal_.reset();
  {
    // What version 1 looked like: no catalogue_pending column.
    auto connection = sqlite::Connection::open(file_);
    ASSERT_TRUE(connection.ok());
    ASSERT_TRUE(connection
                    ->exec("DROP INDEX jobs_to_catalogue; ALTER TABLE jobs DROP COLUMN catalogue_pending; "
                           "ALTER TABLE jobs DROP COLUMN retry_at_ms; ALTER TABLE jobs DROP COLUMN canonical_hash; "
                           "DROP TABLE series_members; DROP TABLE series; DROP TABLE associations_ended; "
                           "DROP INDEX jobs_by_association; ALTER TABLE jobs DROP COLUMN association; "
                           "DROP INDEX jobs_to_sweep; DROP INDEX jobs_by_update; ALTER TABLE jobs DROP COLUMN retention_state")
                    .ok());
    ASSERT_TRUE(connection->set_user_version(1).ok());
  }
  reopen();
  EXPECT_EQ(job(id).state, JobState::written);
  auto owed = journal_->jobs_awaiting_catalogue(-1);
  ASSERT_TRUE(owed.ok()) << owed.error().describe();
  EXPECT_TRUE(owed->empty());
  EXPECT_EQ(written_job("new.dcm", {}), id + 1);
  EXPECT_EQ(journal_->jobs_awaiting_catalogue(-1)->size(), 1U);
}

TEST_F(Journal, a_version_2_journal_gains_canonical_hashes_in_place) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  journal_.reset();
  {
    auto connection = sqlite::Connection::open(file_);
    ASSERT_TRUE(connection.ok());
    // What version 2 looked like: no canonical hashes, no series.
    ASSERT_TRUE(connection
                    ->exec("ALTER TABLE jobs DROP COLUMN canonical_hash; DROP TABLE series_members; "
                           "DROP TABLE series; DROP TABLE associations_ended; DROP INDEX jobs_by_association; "
                           "ALTER TABLE jobs DROP COLUMN association; DROP INDEX jobs_to_sweep; "
                           "DROP INDEX jobs_by_update; ALTER TABLE jobs DROP COLUMN retention_state")
                    .ok());
    ASSERT_TRUE(connection->set_user_version(2).ok());
  }
  reopen();
  ASSERT_TRUE(journal_->set_canonical_hash(id, "c1").ok());
  EXPECT_EQ(job(id).canonical_hash, "c1");
}

TEST_F(Journal, the_same_instance_in_another_encoding_is_a_duplicate_when_the_canonical_hashes_agree) {
  const std::int64_t id = created(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(journal_->set_canonical_hash(id, "c1").ok());
  auto again = journal_->record_arrival(encoded("b.dcm", "h2", "c1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, ArrivalOutcome::duplicate);
  EXPECT_EQ(again->job_id, id);
  EXPECT_EQ(journal_->count_in_state(JobState::rejected).value(), 0);
}

TEST_F(Journal, a_conflict_retried_with_the_same_bytes_or_content_is_recorded_once) {
  const std::int64_t first = created(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_TRUE(journal_->set_canonical_hash(first, "c1").ok());
  NewArrival other = encoded("b.dcm", "h2", "c2");
  auto conflict = journal_->record_arrival(other);
  ASSERT_TRUE(conflict.ok());
  ASSERT_EQ(conflict->outcome, ArrivalOutcome::conflict);
  other.input_path = "/spool/retry-1";  // the same bytes again
  auto retry = journal_->record_arrival(other);
  ASSERT_TRUE(retry.ok());
  EXPECT_EQ(retry->outcome, ArrivalOutcome::known_conflict);
  EXPECT_EQ(retry->job_id, conflict->job_id);
  // The same content in another transfer syntax.
  auto retry_encoded = journal_->record_arrival(encoded("c.dcm", "h3", "c2"));
  ASSERT_TRUE(retry_encoded.ok());
  EXPECT_EQ(retry_encoded->outcome, ArrivalOutcome::known_conflict);
  EXPECT_EQ(journal_->count_in_state(JobState::rejected).value(), 1);
}

TEST_F(Journal, a_deleted_or_replaced_journal_file_is_noticed) {
  EXPECT_TRUE(journal_->check_file_in_place().ok());
  std::filesystem::rename(file_, file_.string() + ".moved");
  auto gone = journal_->check_file_in_place();
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, "journal_replaced");
  // Nothing is acknowledged into it any more.
  auto refused = journal_->record_arrival(arrival("a.dcm", "1.2.3", "h1"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, "journal_replaced");
  std::filesystem::copy_file(file_.string() + ".moved", file_);
  EXPECT_EQ(journal_->check_file_in_place().error().code, "journal_replaced");
}

TEST_F(Journal, a_result_awaits_its_image_db_rows_until_they_are_confirmed) {
  const std::int64_t first = written_job("a.dcm", {"pacs"});
  const std::int64_t second = written_job("b.dcm", {});
  const std::int64_t waiting = created(arrival("w.dcm", "1.9.1", "hw"));
  auto owed = journal_->jobs_awaiting_catalogue(-1);
  ASSERT_TRUE(owed.ok());
  ASSERT_EQ(owed->size(), 2U);  // a job without a result owes no rows
  EXPECT_EQ(owed->at(0).id, first);
  EXPECT_EQ(owed->at(1).id, second);
  EXPECT_EQ(owed->at(0).output_path, "/out/a.dcm");
  EXPECT_NE(owed->at(0).id, waiting);

  ASSERT_TRUE(journal_->mark_catalogued({first, 12345}).ok());
  owed = journal_->jobs_awaiting_catalogue(-1);
  ASSERT_EQ(owed->size(), 1U);
  EXPECT_EQ(owed->front().id, second);

  // Processed again, the job owes its new rows.
  ASSERT_EQ(journal_->reprocess({first}).value(), 1);
  EXPECT_EQ(claim().id, first);  // the oldest received job
  ASSERT_TRUE(journal_->mark_written(first, "/out/a2.dcm", "2.25.77", {}).ok());
  EXPECT_EQ(journal_->jobs_awaiting_catalogue(-1)->size(), 2U);
}

TEST_F(Journal, concurrent_arrivals_from_four_threads_get_unique_jobs) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 25;
  std::vector<std::vector<RecordedArrival>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t, &results] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string name = std::to_string(t) + "-" + std::to_string(i);
        auto recorded = journal_->record_arrival(arrival(name + ".dcm", "1.2." + std::to_string(t) + "." +
                                                                            std::to_string(i), "h" + name));
        if (recorded) results[t].push_back(recorded.value());
        // Every thread also sees one shared file: exactly one of them may create its job.
        auto shared = journal_->record_arrival(arrival("shared.dcm", "1.9", "hs"));
        if (shared) results[t].push_back(shared.value());
      }
    });
  }
  for (auto& thread : threads) thread.join();

  std::set<std::int64_t> created_ids;
  std::set<std::int64_t> shared_ids;
  int created_count = 0;
  for (const auto& per_thread : results) {
    EXPECT_EQ(per_thread.size(), 2U * kPerThread);
    for (const RecordedArrival& recorded : per_thread) {
      if (recorded.outcome == ArrivalOutcome::created) {
        ++created_count;
        created_ids.insert(recorded.job_id);
      } else {
        EXPECT_EQ(recorded.outcome, ArrivalOutcome::same_file);
        shared_ids.insert(recorded.job_id);
      }
    }
  }
  EXPECT_EQ(created_count, kThreads * kPerThread + 1);
  EXPECT_EQ(created_ids.size(), static_cast<std::size_t>(created_count));
  ASSERT_EQ(shared_ids.size(), 1U);
  EXPECT_EQ(created_ids.count(*shared_ids.begin()), 1U);
  EXPECT_EQ(journal_->count_in_state(JobState::received).value(), kThreads * kPerThread + 1);
}

TEST_F(Journal, two_journals_on_one_file_never_hand_out_a_job_twice) {
  constexpr int kJobs = 40;
  for (int i = 0; i < kJobs; ++i) created(arrival(std::to_string(i), "1.3." + std::to_string(i), "h" + std::to_string(i)));
  auto other = journal::Journal::open(file_);
  ASSERT_TRUE(other.ok());
  std::vector<std::int64_t> claimed_by[2];
  auto worker = [](journal::Journal& journal, std::vector<std::int64_t>& claimed) {
    while (true) {
      auto next = journal.claim_next(2);
      if (!next || !next->has_value()) return;
      claimed.push_back((*next)->id);
    }
  };
  std::thread first(worker, std::ref(*journal_), std::ref(claimed_by[0]));
  std::thread second(worker, std::ref(*other.value()), std::ref(claimed_by[1]));
  first.join();
  second.join();
  std::set<std::int64_t> all(claimed_by[0].begin(), claimed_by[0].end());
  all.insert(claimed_by[1].begin(), claimed_by[1].end());
  EXPECT_EQ(claimed_by[0].size() + claimed_by[1].size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kJobs));
  EXPECT_EQ(journal_->count_in_state(JobState::processing).value(), kJobs);
}

}  // namespace
}  // namespace creni::journal
