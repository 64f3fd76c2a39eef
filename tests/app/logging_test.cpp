// Log lines cannot be forged or made unreadable by what a peer or a file puts into a message.
#include "creni/app/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <string>

#include "harness.hpp"

namespace creni::app {
namespace {

std::string logged_as(LogFormat format, const std::string& message) {
  ::testing::internal::CaptureStderr();
  setup_logging(format, "info");
  spdlog::get("ingest")->warn("peer sent {}", message);
  spdlog::get("ingest")->flush();
  std::string line = ::testing::internal::GetCapturedStderr();
  spdlog::drop_all();
  return line;
}

// What python3's json module makes of a line (the bytes as given): its "msg", or "INVALID".
std::string python_reads_msg(const std::string& line, const harness::TempDir& scratch) {
  const auto file = scratch / "line.json";
  {
    std::FILE* out = std::fopen(file.c_str(), "wb");
    std::fwrite(line.data(), 1, line.size(), out);
    std::fclose(out);
  }
  const auto read = harness::run_command(
      {harness::find_program("python3"), "-c",
       "import json,sys\n"
       "try:\n"
       "  print(json.loads(open(sys.argv[1],'rb').read().decode('utf-8'))['msg'].encode('unicode_escape').decode())\n"
       "except Exception:\n"
       "  print('INVALID')",
       file.string()});
  std::string out = read.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(Logging, json_lines_stay_valid_json_whatever_bytes_the_message_holds) {
  const harness::TempDir scratch;
  static constexpr char kHostile[] = "\xff\xfe AE\x80 \"quoted\" back\\slash \x1b[31m new\nline \xc3(";
  const std::string hostile(kHostile, sizeof kHostile - 1);
  const std::string line = logged_as(LogFormat::json, hostile);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1) << line;
  EXPECT_EQ(python_reads_msg(line, scratch),
            "peer sent \\ufffd\\ufffd AE\\ufffd \"quoted\" back\\\\slash \\x1b[31m new\\nline \\ufffd(");
}

TEST(Logging, well_formed_utf8_passes_through_unchanged) {
  const harness::TempDir scratch;
  const std::string line = logged_as(LogFormat::json, "M\xc3\xbcller \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80");
  EXPECT_NE(line.find("M\xc3\xbcller \xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x98\x80"), std::string::npos) << line;
  EXPECT_NE(python_reads_msg(line, scratch), "INVALID");
}

TEST(Logging, text_lines_replace_invalid_utf8_and_escape_control_characters) {
  const std::string line = logged_as(LogFormat::text, std::string("a\xff" "b\nc", 5));
  EXPECT_NE(line.find("peer sent a\xef\xbf\xbd" "b\\u000ac"), std::string::npos) << line;
}

}  // namespace
}  // namespace creni::app
