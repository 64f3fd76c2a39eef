// The folder door end to end, against the built binary: files dropped into INPUT/gateway_<id>/ come out processed
// in OUTPUT/gateway_<id>/ exactly once, even across crashes, and no crafted file stops the node.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// A series of `count` slices written straight into the gateway folder, <StudyUID>/<SOPUID> like a gateway does.
std::vector<std::filesystem::path> drop_series(const std::filesystem::path& gateway_folder, int count) {
  ImageSpec spec;
  spec.study_instance_uid = fresh_uid();
  spec.series_instance_uid = fresh_uid();
  std::vector<std::filesystem::path> files;
  std::filesystem::create_directories(gateway_folder / spec.study_instance_uid);
  for (int i = 0; i < count; ++i) {
    spec.sop_instance_uid = fresh_uid();
    const auto file = gateway_folder / spec.study_instance_uid / spec.sop_instance_uid;
    // Written under a temporary name and renamed, as a careful sender does; the slow-writer test covers the rest.
    const auto temp = file.string() + ".part";
    EXPECT_TRUE(write_image(spec, temp).ok());
    std::filesystem::rename(temp, file);
    files.push_back(file);
  }
  return files;
}

// Explicit VR Little Endian Part 10 bytes whose data set nests `depth` undefined-length sequences: DCMTK 3.6.7
// parses them recursively and overflows the stack, which is what a worker process is for.
std::string deeply_nested_file(int depth) {
  std::string bytes(128, '\0');
  bytes += "DICM";
  const auto element = [&](std::uint16_t group, std::uint16_t tag, const char* vr, const std::string& value) {
    bytes += static_cast<char>(group & 0xFF);
    bytes += static_cast<char>(group >> 8);
    bytes += static_cast<char>(tag & 0xFF);
    bytes += static_cast<char>(tag >> 8);
    bytes += vr;
    const std::size_t length = value.size();
    bytes += static_cast<char>(length & 0xFF);
    bytes += static_cast<char>(length >> 8);
    bytes += value;
  };
  const std::string sop = fresh_uid();
  const std::string sop_padded = sop.size() % 2 ? sop + '\0' : sop;
  element(0x0002, 0x0010, "UI", std::string("1.2.840.10008.1.2.1") + '\0');
  element(0x0002, 0x0003, "UI", sop_padded);
  element(0x0008, 0x0016, "UI", std::string("1.2.840.10008.5.1.4.1.1.7") + '\0');
  element(0x0008, 0x0018, "UI", sop_padded);
  const std::string open_sequence("\x08\x00\x15\x11SQ\x00\x00\xFF\xFF\xFF\xFF", 12);
  const std::string open_item("\xFE\xFF\x00\xE0\xFF\xFF\xFF\xFF", 8);
  for (int i = 0; i < depth; ++i) bytes += open_sequence + open_item;
  return bytes;
}

// The SOP Instance UIDs in a gateway folder's image.db (empty when it cannot be read).
std::set<std::string> indexed_sop_instance_uids(const std::filesystem::path& folder) {
  const auto rows = harness::run_command({"sqlite3", (folder / "image.db").string(), "SELECT SOPInstanceUID FROM image"});
  std::set<std::string> uids;
  std::istringstream lines(rows.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) uids.insert(line);
  }
  return uids;
}

std::set<std::string> sop_instance_uids_of(const std::vector<std::filesystem::path>& files) {
  std::set<std::string> uids;
  for (const auto& file : files) uids.insert(tag_of(file, DCM_SOPInstanceUID));
  return uids;
}

TEST(FolderDoor, processes_every_dropped_file_once_into_the_gateways_layout) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto nested = drop_series(node.input() / "gateway_1", 5);
  const auto flat = drop_series(node.input() / "gateway_2", 3);
  ASSERT_TRUE(node.wait_for_state("written", 8, 60s)) << node.status_json() << node.log();

  const auto results_in = [](const std::filesystem::path& folder) {
    std::vector<std::filesystem::path> results;
    for (const auto& file : harness::files_below(folder)) {
      if (file.extension() == ".dcm") results.push_back(file);
    }
    return results;
  };
  const auto gateway_1 = results_in(node.output() / "gateway_1");
  const auto gateway_2 = results_in(node.output() / "gateway_2");
  ASSERT_EQ(gateway_1.size(), 5u);
  ASSERT_EQ(gateway_2.size(), 3u);
  for (const auto& file : gateway_1) {
    // nested: <StudyUID>/<SOPUID>.dcm, named by the derived UIDs written inside
    EXPECT_EQ(file.parent_path().filename().string(), tag_of(file, DCM_StudyInstanceUID));
    EXPECT_EQ(file.stem().string(), tag_of(file, DCM_SOPInstanceUID));
    EXPECT_EQ(tag_of(file, DCM_StudyDescription), "CT HEAD ScreenedByAI");
  }
  for (const auto& file : gateway_2) {
    EXPECT_EQ(file.parent_path(), node.output() / "gateway_2");
    EXPECT_EQ(file.stem().string(), tag_of(file, DCM_SOPInstanceUID));
  }
  // Every slice of the series went into one derived series.
  std::set<std::string> series;
  for (const auto& file : gateway_1) series.insert(tag_of(file, DCM_SeriesInstanceUID));
  EXPECT_EQ(series.size(), 1u);
  EXPECT_EQ(node.count_in_state("rejected"), 0);

  // OUTPUT/gateway_1/image.db indexes the results like the gateways' own files: derived UIDs, linked rows, paths.
  // The index is written in batches just after the results: wait (bounded) for its rows.
  const auto index = node.output() / "gateway_1" / "image.db";
  const auto query = [&] {
    return harness::run_command({"sqlite3", index.string(),
        "SELECT i.SOPInstanceUID, s.SeriesInstanceUID, st.StudyDescription, i.PrivateCreator FROM image i "
        "JOIN series s ON i.referenceId = s.id JOIN study st ON s.referenceId = st.id ORDER BY i.SOPInstanceUID"});
  };
  ASSERT_TRUE(harness::wait_until([&] {
    const std::string out = query().out;
    return std::count(out.begin(), out.end(), '\n') >= 5;
  }, 10s));
  const auto rows = query();
  ASSERT_EQ(rows.exit_code, 0) << rows.err;
  for (const auto& file : gateway_1) {
    const std::string expected = tag_of(file, DCM_SOPInstanceUID) + "|" + *series.begin() + "|CT HEAD ScreenedByAI|" +
                                 std::filesystem::absolute(file).string();
    EXPECT_NE(rows.out.find(expected), std::string::npos) << rows.out;
  }
}

TEST(FolderDoor, the_same_image_dropped_twice_is_processed_once) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto files = drop_series(node.input() / "gateway_1", 1);
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();
  // A gateway resends the same instance under another name.
  std::filesystem::copy_file(files[0], files[0].parent_path() / "again.part");
  std::filesystem::rename(files[0].parent_path() / "again.part", files[0].parent_path() / "again");
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("already known") != std::string::npos; }, 20s)) << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(node.count_in_state("written"), 1);
}

TEST(FolderDoor, a_file_still_being_written_is_taken_only_once_complete) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto staging = node.state().parent_path() / "staging.dcm";
  ImageSpec spec;
  spec.rows = 256;
  spec.columns = 256;
  ASSERT_TRUE(write_image(spec, staging).ok());
  const std::string bytes = harness::read_file(staging);
  std::filesystem::create_directories(node.input() / "gateway_1" / "study");
  const auto target = node.input() / "gateway_1" / "study" / "slow-image";
  {
    std::ofstream writer(target, std::ios::binary);
    writer.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    writer.flush();
    // Longer than the stability window: only the open-for-writing tracking keeps the half file from being taken.
    std::this_thread::sleep_for(1500ms);
    writer.write(bytes.data() + bytes.size() / 2, static_cast<std::streamsize>(bytes.size() - bytes.size() / 2));
  }
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 1u);
}

TEST(FolderDoor, temporary_and_hidden_names_and_image_db_are_not_images) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  ImageSpec spec;
  for (const char* name : {".hidden", "upload.tmp", "upload.part", "upload.partial", "image.db", "image.db-wal"}) {
    ASSERT_TRUE(write_image(spec, folder / name).ok());
  }
  drop_series(folder, 1);  // a real one, to know when the node has looked
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();
  std::this_thread::sleep_for(2500ms);  // a rescan period, so that a scan would have seen them too
  EXPECT_EQ(node.count_in_state("written"), 1);
  EXPECT_EQ(node.count_in_state("rejected"), 0);
}

TEST(FolderDoor, invalid_files_are_rejected_with_their_reason_kept_in_quarantine_and_give_no_output) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder / "bad");
  const auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(folder / "bad" / (name + ".part"), std::ios::binary) << bytes;
    std::filesystem::rename(folder / "bad" / (name + ".part"), folder / "bad" / name);
  };
  write("notes", "this is not DICOM\n");
  write("empty", "");
  std::string garbage(128, '\0');
  garbage += "DICM";
  for (int i = 0; i < 2048; ++i) garbage += static_cast<char>((i * 31) % 253);
  write("dicm-then-garbage", garbage);
  const auto staging = node.state().parent_path() / "whole.dcm";
  ASSERT_TRUE(write_image(ImageSpec{}, staging).ok());
  std::string cut = harness::read_file(staging);
  cut.resize(cut.size() - 777);
  write("truncated", cut);
  drop_series(folder, 1);

  ASSERT_TRUE(node.wait_for_state("rejected", 4, 30s)) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.log();
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"reason\":\"not_dicom\""), std::string::npos) << status;
  EXPECT_NE(status.find("\"reason\":\"truncated\""), std::string::npos) << status;
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(harness::files_below(node.state() / "quarantine" / "gateway_1").size(), 4u);
}

TEST(FolderDoor, a_symbolic_link_is_recorded_rejected_and_never_followed) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  const auto outside = node.state().parent_path() / "outside.dcm";
  ASSERT_TRUE(write_image(ImageSpec{}, outside).ok());
  std::filesystem::create_symlink(outside, folder / "link");
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 30s)) << node.log();
  EXPECT_NE(node.status_json().find("\"reason\":\"symlink\""), std::string::npos);
  EXPECT_TRUE(node.outputs().empty());
}

TEST(FolderDoor, a_file_that_crashes_workers_is_rejected_as_poison_and_the_node_carries_on) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  { std::ofstream(folder / "nested.part", std::ios::binary) << deeply_nested_file(200000); }
  std::filesystem::rename(folder / "nested.part", folder / "nested");
  drop_series(folder, 2);
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 90s)) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
  const std::string status = node.status_json();
  EXPECT_NE(status.find("\"reason\":\"poison\""), std::string::npos) << status;
  EXPECT_NE(node.log().find("worker failed"), std::string::npos);
}

// A worker's result is made durable by the node while the worker goes on with its next job. When that next job
// kills the worker, the node removes the dead worker's temporary files: the result before must be committed first,
// never lost to that clean-up or put off as an io_error.
TEST(FolderDoor, results_answered_just_before_a_worker_dies_are_kept) {
  const std::string strace = harness::find_program("strace");
  ASSERT_FALSE(strace.empty()) << "strace is not installed (scripts/install-deps.sh test installs it)";
  NodeUnderTest node;
  // Every fsync takes 150 ms longer, so that results are still being committed when the poison kills their worker.
  ASSERT_TRUE(node.start_under({strace, "-f", "-qq", "-e", "trace=fsync", "-e", "inject=fsync:delay_enter=150000",
                                "-o", "/dev/null"}))
      << node.log();
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  for (int round = 0; round < 2; ++round) {
    drop_series(folder, 6);
    const auto poison = folder / ("nested-" + std::to_string(round));
    { std::ofstream(poison.string() + ".part", std::ios::binary) << deeply_nested_file(200000); }
    std::filesystem::rename(poison.string() + ".part", poison);
  }
  ASSERT_TRUE(node.wait_for_state("rejected", 2, 90s)) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 12, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 12u);
  EXPECT_EQ(node.log().find("result not durable"), std::string::npos) << node.log();
  EXPECT_EQ(temporary_files_below(node.output()), std::vector<std::filesystem::path>{});
}

TEST(FolderDoor, a_kill_9_loses_nothing_and_processes_nothing_twice) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  drop_series(node.input() / "gateway_1", 40);
  ASSERT_TRUE(node.wait_for_state("written", 3, 60s)) << node.log();
  node.kill_hard();

  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 40, 120s)) << node.status_json() << node.log();
  EXPECT_EQ(node.count_in_state("written"), 40);
  EXPECT_EQ(node.count_in_state("rejected"), 0);
  const auto outputs = node.outputs();
  EXPECT_EQ(outputs.size(), 40u);
  // Once the node has stopped in order, image.db has settled: no transaction is open, and a row for every result,
  // including those whose rows the kill interrupted.
  EXPECT_EQ(node.stop(), 0) << node.log();
  for (const auto& file : harness::files_below(node.output())) {
    EXPECT_TRUE(file.extension() == ".dcm" || file.filename() == "image.db") << "leftover " << file;
  }
  EXPECT_EQ(indexed_sop_instance_uids(node.output() / "gateway_1"), sop_instance_uids_of(outputs));
}

TEST(FolderDoor, image_db_rows_lost_with_a_crash_are_added_again_at_the_next_start) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  drop_series(node.input() / "gateway_1", 3);
  ASSERT_TRUE(node.wait_for_state("written", 3, 60s)) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
  // What a kill between the journal's commit and image.db's looks like: results recorded, rows never confirmed.
  const auto index = node.output() / "gateway_1" / "image.db";
  std::filesystem::remove(index);
  const auto unconfirmed = harness::run_command(
      {"sqlite3", (node.state() / "journal.db").string(), "UPDATE jobs SET catalogue_pending = 1"});
  ASSERT_EQ(unconfirmed.exit_code, 0) << unconfirmed.err;

  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(harness::wait_until([&] { return indexed_sop_instance_uids(index.parent_path()).size() == 3; }, 20s))
      << node.log();
  EXPECT_EQ(indexed_sop_instance_uids(index.parent_path()), sop_instance_uids_of(node.outputs()));
  EXPECT_NE(node.log().find("repairing image.db: 3 result(s)"), std::string::npos) << node.log();
  // Confirmed now: the next start has nothing to repair.
  EXPECT_EQ(node.stop(), 0);
  ASSERT_TRUE(node.start()) << node.log();
  EXPECT_EQ(node.stop(), 0);
  EXPECT_EQ(node.log().find("repairing image.db"), std::string::npos) << node.log();
}

TEST(FolderDoor, an_output_folder_that_cannot_be_written_holds_the_job_and_processing_resumes_when_fixed) {
  NodeUnderTest::Settings settings;
  settings.tables = "[processing]\nio_retry_s = 1\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  // RELIABILITY D1 without root-only tricks: a file where the gateway's output folder belongs.
  const auto blocked = node.output() / "gateway_1";
  std::filesystem::remove_all(blocked);
  { std::ofstream(blocked) << "not a folder"; }
  const auto inputs = drop_series(node.input() / "gateway_1", 1);
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("not written, retrying in 1 s") != std::string::npos; }, 30s))
      << node.log();
  std::this_thread::sleep_for(2500ms);  // a few retries: still waiting, never rejected, never poison
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
  EXPECT_EQ(node.count_in_state("written"), 0);
  EXPECT_TRUE(std::filesystem::exists(inputs[0]));

  std::filesystem::remove(blocked);
  std::filesystem::create_directories(blocked);
  ASSERT_TRUE(node.wait_for_state("written", 1, 30s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 1u);
  EXPECT_EQ(node.count_in_state("rejected"), 0);
}

TEST(FolderDoor, the_node_says_it_has_started_only_once_its_workers_are_up) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  // Work arriving right away never waits for a boot.
  const std::string log = node.log();
  const auto ready = log.find(" started: input ");
  ASSERT_NE(ready, std::string::npos) << log;
  EXPECT_LT(log.find("worker 0 started"), ready) << log;
  EXPECT_LT(log.find("worker 1 started"), ready) << log;
  EXPECT_EQ(node.children().size(), 2u);
}

TEST(FolderDoor, a_hung_worker_is_replaced_after_the_job_timeout_and_the_job_still_completes) {
  // One worker, so that the job's second attempt is on the worker that replaced the hung one. With two workers
  // frozen while idle (which no hung decoder does: it hangs on a job), the retry may go to the other frozen one
  // and, after its second timeout, the job is rightly rejected as poison (two failed attempts).
  NodeUnderTest::Settings settings;
  settings.node = "workers = 1\n";
  settings.tables = "[processing]\njob_timeout_s = 2\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_EQ(node.children().size(), 1u);
  // The worker freezes (as a decoder stuck in a loop would): nothing it is given comes back.
  ::kill(node.children().front(), SIGSTOP);
  drop_series(node.input() / "gateway_1", 2);
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
  EXPECT_NE(node.log().find("worker failed"), std::string::npos) << node.log();
  EXPECT_EQ(node.count_in_state("rejected"), 0) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 2u);
}

TEST(FolderDoor, a_jpeg_stream_that_hangs_dcmtk_is_rejected_as_poison_after_two_timeouts) {
  NodeUnderTest::Settings settings;
  settings.tables = "[processing]\njob_timeout_s = 2\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  // DCMTK 3.6.7's JPEG decoder spins forever when the first marker after SOI (an APP0, FF E0) becomes the TEM
  // marker FF 01: two bytes turn a valid file into a hang (../shared/RELIABILITY.md, E1).
  const auto staging = node.state().parent_path() / "jpeg.dcm";
  ImageSpec spec;
  spec.transfer_syntax = "1.2.840.10008.1.2.4.70";  // JPEG lossless, first-order prediction
  ASSERT_TRUE(write_image(spec, staging).ok());
  std::string bytes = harness::read_file(staging);
  const auto soi = bytes.find(std::string("\xFF\xD8\xFF\xE0", 4));
  ASSERT_NE(soi, std::string::npos);
  bytes[soi + 3] = '\x01';
  const auto folder = node.input() / "gateway_1";
  std::filesystem::create_directories(folder);
  { std::ofstream(folder / "tem.part", std::ios::binary) << bytes; }
  std::filesystem::rename(folder / "tem.part", folder / "tem");
  drop_series(folder, 2);

  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json() << node.log();
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 60s)) << node.status_json() << node.log();
  EXPECT_NE(node.status_json().find("\"reason\":\"poison\""), std::string::npos) << node.status_json();
  EXPECT_EQ(node.outputs().size(), 2u);
}

TEST(FolderDoor, sigterm_stops_cleanly_and_the_next_start_resumes) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  drop_series(node.input() / "gateway_1", 30);
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
  EXPECT_NE(node.log().find("creni-node stopped"), std::string::npos);
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 30, 60s)) << node.status_json() << node.log();
  EXPECT_EQ(node.outputs().size(), 30u);
}

TEST(FolderDoor, a_thousand_files_dropped_at_once_are_each_processed_exactly_once) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto staging = node.state().parent_path() / "burst";
  ImageSpec spec;
  spec.rows = 32;
  spec.columns = 32;
  spec.study_instance_uid = fresh_uid();
  spec.series_instance_uid = fresh_uid();
  std::filesystem::create_directories(staging / spec.study_instance_uid);
  for (int i = 0; i < 1000; ++i) {
    spec.sop_instance_uid = fresh_uid();
    ASSERT_TRUE(write_image(spec, staging / spec.study_instance_uid / spec.sop_instance_uid).ok());
  }
  // One rename moves the whole study folder in, as a gateway that prepares a study elsewhere does.
  std::filesystem::create_directories(node.input() / "gateway_1");
  std::filesystem::rename(staging / spec.study_instance_uid, node.input() / "gateway_1" / spec.study_instance_uid);
  ASSERT_TRUE(node.wait_for_state("written", 1000, 240s)) << node.status_json();
  EXPECT_EQ(node.count_in_state("written"), 1000);
  EXPECT_EQ(node.outputs().size(), 1000u);
}

TEST(FolderDoor, inputs_can_be_deleted_after_processing) {
  NodeUnderTest::Settings settings;
  settings.input = "after_processing = \"delete\"";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const auto inputs = drop_series(node.input() / "gateway_1", 3);
  ASSERT_TRUE(node.wait_for_state("written", 3, 60s)) << node.log();
  ASSERT_TRUE(harness::wait_until([&] {
    for (const auto& input : inputs) {
      if (std::filesystem::exists(input)) return false;
    }
    return true;
  }, 10s));
  EXPECT_EQ(node.outputs().size(), 3u);
}

TEST(FolderDoor, files_already_there_at_start_are_processed) {
  NodeUnderTest node;
  drop_series(node.input() / "gateway_2", 4);
  ASSERT_TRUE(node.start()) << node.log();
  ASSERT_TRUE(node.wait_for_state("written", 4, 60s)) << node.log();
  EXPECT_EQ(node.outputs().size(), 4u);
}

TEST(FolderDoor, a_second_node_on_the_same_state_folder_refuses_to_start) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto second = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string()}, 20s);
  EXPECT_EQ(second.exit_code, 2);  // a configuration problem: nothing was done
  EXPECT_NE(second.err.find("locked"), std::string::npos) << second.err;
}

}  // namespace
}  // namespace creni::testing
