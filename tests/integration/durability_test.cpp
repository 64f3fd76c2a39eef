// Durable before acknowledged, checked on the system calls themselves (../shared/RELIABILITY.md, C5): for one
// C-STORE the SCP thread must fsync the spool file, fsync the spool folder (the file's new entry) and commit the
// journal (WAL sync) before it writes the C-STORE response to the socket.
#include <gtest/gtest.h>

#include <fstream>
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

TEST(Durability, a_c_store_is_answered_only_after_spool_file_folder_and_journal_are_synced) {
  const std::string strace = harness::find_program("strace");
  ASSERT_FALSE(strace.empty()) << "strace is not installed (scripts/install-deps.sh test installs it)";
  harness::TempDir trace_dir;
  const auto trace = trace_dir.path() / "trace.txt";
  NodeUnderTest::Settings settings;
  settings.launcher = {strace, "-f", "-y", "-e", "trace=fsync,fdatasync,rename,renameat,renameat2,write,writev,sendto,sendmsg",
                       "-o", trace.string()};
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
  const std::regex spool_file_sync(R"(^f(data)?sync\(\d+<[^>]*spool/[^>]+\.dcm>)");
  std::size_t file_synced = calls.size();
  for (std::size_t i = 0; i < calls.size(); ++i) {
    if (std::regex_search(calls[i].text, spool_file_sync)) {
      file_synced = i;
      break;
    }
  }
  ASSERT_LT(file_synced, calls.size()) << "the spool file was never synced";
  const std::string thread = calls[file_synced].thread;
  const auto first_after = [&](std::size_t from, const std::regex& pattern) {
    for (std::size_t i = from; i < calls.size(); ++i) {
      if (calls[i].thread == thread && std::regex_search(calls[i].text, pattern)) return i;
    }
    return calls.size();
  };
  const std::size_t folder_synced = first_after(file_synced, std::regex(R"(^fsync\(\d+<[^>]*/spool>)"));
  const std::size_t journal_synced = first_after(file_synced, std::regex(R"(^f(data)?sync\(\d+<[^>]*journal\.db-wal>)"));
  // The C-STORE response travels in a P-DATA-TF PDU (type 0x04) on the association's socket.
  const std::size_t answered = first_after(file_synced, std::regex(R"(^(write|sendto|writev|sendmsg)\(\d+<(socket|TCP)[^>]*>, "\\4)"));
  ASSERT_LT(folder_synced, calls.size()) << "spool folder never synced";
  ASSERT_LT(journal_synced, calls.size()) << "journal never synced";
  ASSERT_LT(answered, calls.size()) << "no response seen";
  EXPECT_LT(folder_synced, journal_synced);
  EXPECT_LT(journal_synced, answered) << "the C-STORE was answered before the journal was durable";
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
  EXPECT_TRUE(harness::files_below(spool).empty());
  const auto echo = harness::run_command({harness::find_program("echoscu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node.port())});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

}  // namespace
}  // namespace creni::testing
