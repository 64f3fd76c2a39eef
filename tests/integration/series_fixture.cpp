#include "series_fixture.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>

namespace creni::testing {

Series::Series(int expected) : expected_(expected) {
  spec_.study_instance_uid = fresh_uid();
  spec_.series_instance_uid = fresh_uid();
}

std::filesystem::path Series::write(const std::filesystem::path& folder, int index) {
  ImageSpec spec = spec_;
  spec.sop_instance_uid = fresh_uid();
  if (value_) spec.pixel = [value = value_(index)](int, int, int, int) { return value; };
  auto file = make_image(spec);
  DcmDataset& data = *file->getDataset();
  data.putAndInsertString(DCM_InstanceNumber, std::to_string(index + 1).c_str());
  data.putAndInsertString(DCM_ImagePositionPatient, ("0\\0\\" + std::to_string(-5 * index)).c_str());
  data.putAndInsertString(DCM_ImageOrientationPatient, "1\\0\\0\\0\\1\\0");
  if (expected_ > 0) data.putAndInsertString(DCM_ImagesInAcquisition, std::to_string(expected_).c_str());
  std::filesystem::create_directories(folder);
  const auto path = folder / spec.sop_instance_uid;
  EXPECT_TRUE(file->saveFile((path.string() + ".part").c_str(), EXS_LittleEndianExplicit).good());
  std::filesystem::rename(path.string() + ".part", path);
  sop_instance_uids_.push_back(spec.sop_instance_uid);
  return path;
}

void Series::drop(const NodeUnderTest& node, int first, int last) {
  for (int i = first; i < last; ++i) write(node.input() / "gateway_1" / spec_.study_instance_uid, i);
}

void Series::send(const NodeUnderTest& node, int first, int last) {
  std::vector<std::string> argv{harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI", "127.0.0.1",
                                std::to_string(node.port())};
  for (int i = first; i < last; ++i) argv.push_back(write(staging_.path(), i).string());
  const auto sent = harness::run_command(argv);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
}

std::vector<SeriesRunView> runs_of(const NodeUnderTest& node, const std::string& series_uid) {
  const std::string json = node.status_json();
  const std::regex pattern("\\{\"id\":[0-9]+,\"gateway\":\"[^\"]*\",\"series_instance_uid\":\"" + series_uid +
                           "\",\"run\":([0-9]+),\"state\":\"([a-z]+)\",\"received\":([0-9]+),\"expected\":([0-9]+),"
                           "[^}]*\"completed_by\":\"([a-z_]*)\"[^}]*\"result\":\"([^\"]*)\",\"summary\":\"([^\"]*)\"");
  std::vector<SeriesRunView> runs;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), pattern); it != std::sregex_iterator(); ++it) {
    runs.push_back(SeriesRunView{std::stoi((*it)[1]), (*it)[2], std::stol((*it)[3]), std::stol((*it)[4]), (*it)[5], (*it)[6], (*it)[7]});
  }
  std::sort(runs.begin(), runs.end(), [](const SeriesRunView& a, const SeriesRunView& b) { return a.run < b.run; });
  return runs;
}

// Waits until run `run` of the series is in `state`; returns it (run 0 when it never got there).
SeriesRunView wait_for_run(const NodeUnderTest& node, const Series& series, int run, const std::string& state,
                           std::chrono::milliseconds timeout) {
  SeriesRunView found;
  (void)harness::wait_until(
      [&] {
        for (const SeriesRunView& r : runs_of(node, series.uid())) {
          if (r.run == run && r.state == state) found = r;
        }
        return found.run != 0;
      },
      timeout);
  return found;
}

// Waits until run 1 of the series holds `received` instances.
bool wait_for_received(const NodeUnderTest& node, const Series& series, long received) {
  return harness::wait_until(
      [&] {
        const auto runs = runs_of(node, series.uid());
        return runs.size() == 1 && runs[0].received == received;
      },
      std::chrono::seconds(30));
}

std::string report_xml(const std::string& file) {
  const auto xml = harness::run_command({harness::find_program("dsr2xml"), file});
  EXPECT_EQ(xml.exit_code, 0) << xml.err;
  return xml.out;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

}  // namespace creni::testing
