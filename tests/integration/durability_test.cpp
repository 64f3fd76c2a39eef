// Durable before acknowledged, checked on the system calls themselves (../shared/RELIABILITY.md, C5): before the
// SCP thread writes the C-STORE response to the socket, the spool file (image and arrival record) has been
// fdatasync'd by that thread, its folder entry has been synced after the file was created (by the spool pool ahead
// of time, or by the thread itself), and the journal row has been written to the WAL. The row needs no sync of its
// own: a start after a power cut records it again from the spool file (see the power cut test).
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

struct Call {
  std::string thread;
  std::string text;
};

std::vector<Call> calls_in(const std::filesystem::path& trace) {
  std::vector<Call> calls;
  std::ifstream in(trace);
  for (std::string line; std::getline(in, line);) {
    const auto space = line.find(' ');
    if (space == std::string::npos) continue;
    // strace pads short thread ids so that the calls line up: the call starts after the padding.
    const auto call = line.find_first_not_of(' ', space);
    if (call != std::string::npos) calls.push_back({line.substr(0, space), line.substr(call)});
  }
  return calls;
}

TEST(Durability, a_c_store_is_answered_only_after_the_spool_file_and_its_name_are_synced_and_the_row_written) {
  const std::string strace = harness::find_program("strace");
  ASSERT_FALSE(strace.empty()) << "strace is not installed (scripts/install-deps.sh test installs it)";
  harness::TempDir trace_dir;
  const auto trace = trace_dir.path() / "trace.txt";
  NodeUnderTest::Settings settings;
  settings.launcher = {strace, "-f", "-y", "-e",
                       "trace=openat,fsync,fdatasync,pwrite64,write,writev,sendto,sendmsg", "-o", trace.string()};
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();

  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto sent = harness::run_command({harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port()), (staging / "one.dcm").string()},
                                         60s);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.log();
  node.stop();  // the node itself stops, and strace, which forked it, ends with it and flushes the trace

  const std::vector<Call> calls = calls_in(trace);
  const std::regex spool_file_sync(R"(^fdatasync\(\d+<([^>]*/spool/[^>]+\.dcm)>)");
  std::size_t file_synced = calls.size();
  std::string spool_file;
  for (std::size_t i = 0; i < calls.size(); ++i) {
    std::smatch match;
    if (std::regex_search(calls[i].text, match, spool_file_sync)) {
      file_synced = i;
      spool_file = match[1];
      break;
    }
  }
  ASSERT_LT(file_synced, calls.size()) << "the spool file was never synced";
  const std::string thread = calls[file_synced].thread;
  const auto first = [&](std::size_t from, const std::function<bool(const Call&)>& wanted) {
    for (std::size_t i = from; i < calls.size(); ++i) {
      if (wanted(calls[i])) return i;
    }
    return calls.size();
  };
  const auto on_thread = [&](const std::regex& pattern) {
    return [&thread, pattern](const Call& call) { return call.thread == thread && std::regex_search(call.text, pattern); };
  };
  const std::size_t created = first(0, [&](const Call& call) {
    return call.text.rfind("openat(", 0) == 0 && call.text.find(spool_file + "\"") != std::string::npos &&
           call.text.find("O_CREAT") != std::string::npos;
  });
  ASSERT_LT(created, file_synced) << "the spool file's creation is not in the trace";
  // Any thread: the spool pool syncs the folder for the files it makes ready.
  const std::size_t name_synced =
      first(created, [](const Call& call) { return std::regex_search(call.text, std::regex(R"(^fsync\(\d+<[^>]*/spool>)")); });
  const std::size_t row_written = first(file_synced, on_thread(std::regex(R"(^pwrite64\(\d+<[^>]*journal\.db-wal>)")));
  // The C-STORE response travels in a P-DATA-TF PDU (type 0x04) on the association's socket.
  const std::size_t answered =
      first(file_synced, on_thread(std::regex(R"(^(write|sendto|writev|sendmsg)\(\d+<(socket|TCP)[^>]*>, "\\4)")));
  ASSERT_LT(answered, calls.size()) << "no response seen";
  EXPECT_LT(name_synced, answered) << "the spool file's folder entry was not synced before the answer";
  EXPECT_LT(row_written, answered) << "the C-STORE was answered before its journal row was written";
}

// RELIABILITY D3: when the spool folder cannot be synced (fsync returns EIO, injected by strace on that folder
// only), the image is not durable, so it is not acknowledged: 0xA700, no journal row, no spool file, node up.
TEST(Durability, a_spool_folder_that_cannot_be_synced_gets_0xa700_and_nothing_is_recorded) {
  const std::string strace = harness::find_program("strace");
  ASSERT_FALSE(strace.empty()) << "strace is not installed (scripts/install-deps.sh test installs it)";
  NodeUnderTest node;
  const auto spool = node.state() / "spool";
  // The folder exists before the start, so that the start itself has no reason to sync it.
  std::filesystem::create_directories(spool);
  ASSERT_TRUE(node.start_under({strace, "-f", "-qq", "-P", spool.string(), "-e", "trace=fsync", "-e",
                                "inject=fsync:error=EIO", "-o", "/dev/null"}))
      << node.log();

  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto sent = harness::run_command({harness::find_program("storescu"), "-v", "-aet", "GATEWAY_1", "-aec",
                                          "CRENI", "127.0.0.1", std::to_string(node.port()),
                                          (staging / "one.dcm").string()},
                                         60s);
  EXPECT_NE((sent.out + sent.err).find("Refused: OutOfResources"), std::string::npos) << sent.out << sent.err
                                                                                      << node.log();
  EXPECT_NE(node.log().find("cannot make the spool file durable"), std::string::npos) << node.log();
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("written"), 0) << node.status_json();
  EXPECT_TRUE(harness::spooled_files_below(spool).empty());
  const auto echo = harness::run_command({harness::find_program("echoscu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port())});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

}  // namespace
}  // namespace creni::testing
