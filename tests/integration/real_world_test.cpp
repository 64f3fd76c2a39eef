// Public sample files from Debian packages (python3-pydicom's test and charset files: many vendors' and tools'
// quirks) through the folder door of the built node (issue 15). Every file must end written or rejected with a
// reason, nothing may crash a worker (no "poison"), every result must decode again, and dciodvfy (dicom3tools) may
// find nothing wrong in a result's pixel description that it did not already find in the input. The counts are
// printed for the record.
#include <dcmtk/dcmdata/dcuid.h>
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "creni/dicom/instance.hpp"
#include "creni/dicom/pixel_module.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

std::vector<std::filesystem::path> debian_sample_files() {
  const auto listed = harness::run_command({"dpkg", "-L", "python3-pydicom"}, 30s);
  std::vector<std::filesystem::path> files;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 4 && line.compare(line.size() - 4, 4, ".dcm") == 0 && std::filesystem::is_regular_file(line)) {
      files.emplace_back(line);
    }
  }
  return files;
}

std::string sql(const NodeUnderTest& node, const std::string& query) {
  return harness::run_command({"sqlite3", "-readonly", (node.state() / "journal.db").string(), query}, 30s).out;
}

long number_in(const std::string& text) { return text.empty() ? 0 : std::stol(text); }

// dciodvfy's findings about how pixels are described and encoded (what decoding and burning in may change).
std::set<std::string> pixel_findings(const std::filesystem::path& file) {
  const auto result = harness::run_command({harness::find_program("dciodvfy"), file.string()}, 60s);
  static const std::regex about_pixels("Pixel|Photometric|Bits|Planar|Samples|Lossy|Transfer|Frames|Rows|Columns");
  std::set<std::string> findings;
  std::istringstream lines(result.out + result.err);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Error", 0) == 0 && std::regex_search(line, about_pixels)) findings.insert(line);
  }
  return findings;
}

TEST(RealWorld, public_sample_files_end_written_or_rejected_with_a_reason_and_never_crash_a_worker) {
  const auto samples = debian_sample_files();
  ASSERT_GE(samples.size(), 50U) << "python3-pydicom (scripts/install-deps.sh test) ships the sample files";
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  std::map<std::string, std::filesystem::path> source_of;  // input name -> sample
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const std::string name = std::to_string(i) + "-" + samples[i].filename().string();
    std::filesystem::copy_file(samples[i], node.input() / "gateway_1" / (name + ".part"));
    std::filesystem::rename(node.input() / "gateway_1" / (name + ".part"), node.input() / "gateway_1" / name);
    source_of[name] = samples[i];
  }
  // Every file is taken (an identical copy joins the first one's job; a conflict is a job of its own); then every job
  // leaves received/processing.
  const auto jobs = [&] { return number_in(sql(node, "SELECT count(*) FROM jobs")); };
  const auto taken = [&] {
    std::smatch match;
    const std::string status = node.status_json();
    return std::regex_search(status, match, std::regex("\"files_taken\":([0-9]+)")) ? std::stol(match[1]) : 0L;
  };
  const auto waiting = [&] {
    return number_in(sql(node, "SELECT count(*) FROM jobs WHERE state IN ('received', 'processing')"));
  };
  ASSERT_TRUE(harness::wait_until([&] { return taken() >= static_cast<long>(samples.size()) && waiting() == 0; }, 240s))
      << taken() << " taken, " << jobs() << " jobs, " << waiting() << " waiting\n" << node.status_json();

  const long written = number_in(sql(node, "SELECT count(*) FROM jobs WHERE state = 'written'"));
  const std::string reasons = sql(node, "SELECT reason, count(*) FROM jobs WHERE state = 'rejected' GROUP BY reason");
  EXPECT_EQ(number_in(sql(node, "SELECT count(*) FROM jobs WHERE state = 'rejected' AND reason = ''")), 0);
  EXPECT_EQ(number_in(sql(node, "SELECT count(*) FROM jobs WHERE reason = 'poison'")), 0) << reasons;
  EXPECT_EQ(number_in(sql(node, "SELECT count(*) FROM jobs WHERE state NOT IN ('written', 'rejected')")), 0);

  int decoded_again = 0;
  int clean = 0;
  const std::string outputs = sql(node, "SELECT input_path, output_path FROM jobs WHERE state = 'written'");
  std::istringstream rows(outputs);
  for (std::string row; std::getline(rows, row);) {
    const auto bar = row.find('|');
    ASSERT_NE(bar, std::string::npos) << row;
    const std::filesystem::path output = row.substr(bar + 1);
    const std::string input_name = std::filesystem::path(row.substr(0, bar)).filename().string();
    auto result = dicom::Instance::load(output);
    ASSERT_TRUE(result.ok()) << output << ": " << result.error().describe();
    EXPECT_EQ(result->identity().transfer_syntax_uid, UID_LittleEndianExplicitTransferSyntax) << input_name;
    if (result->has_pixel_data()) {
      auto module = dicom::read_pixel_module(result->dataset(), 1ULL << 30);
      ASSERT_TRUE(module.ok()) << input_name << ": " << module.error().describe();
      EXPECT_TRUE(dicom::check_native_pixel_length(result->dataset(), module.value()).ok()) << input_name;
    }
    ++decoded_again;
    const auto before = pixel_findings(source_of[input_name]);
    int added = 0;
    for (const auto& finding : pixel_findings(output)) {
      if (before.count(finding) == 0) {
        ++added;
        ADD_FAILURE() << input_name << ": " << finding;
      }
    }
    clean += added == 0 ? 1 : 0;
  }
  std::cout << "real-world samples: " << samples.size() << " files, " << jobs() << " jobs, " << written
            << " written (" << decoded_again << " decoded again, " << clean
            << " without new dciodvfy pixel findings), rejected by reason:\n"
            << reasons
            << sql(node, "SELECT reason || ': ' || replace(input_path, rtrim(input_path, replace(input_path, '/', '')), '')"
                         " || ' (' || substr(detail, 1, 100) || ')' FROM jobs WHERE state = 'rejected' ORDER BY reason")
            << std::flush;
  EXPECT_EQ(decoded_again, written);
}

}  // namespace
}  // namespace creni::testing
