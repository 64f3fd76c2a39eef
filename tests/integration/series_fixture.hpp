#pragma once

// What the series tests share: a CT series written or sent slice by slice, and series runs as `status --json` shows
// them.

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "dicom_factory.hpp"
#include "harness.hpp"
#include "node_under_test.hpp"

namespace creni::testing {

/// One CT series of slices with geometry, written in reverse order along z (slice i at z = -5 i, InstanceNumber
/// i + 1), so that a stack must not depend on the order of arrival. `expected` > 0 is written as ImagesInAcquisition.
class Series {
 public:
  explicit Series(int expected = 0);

  /// Every pixel of slice `index` has the stored value `value(index)` (default: the factory's gradient).
  void fill_slices_with(std::function<int(int)> value) { value_ = std::move(value); }

  /// Slice `index` as a file below `folder` (named by its SOP Instance UID).
  std::filesystem::path write(const std::filesystem::path& folder, int index);
  /// Slices [first, last) dropped into the gateway's folder.
  void drop(const NodeUnderTest& node, int first, int last);
  /// Slices [first, last) sent with storescu in one association.
  void send(const NodeUnderTest& node, int first, int last);

  [[nodiscard]] const std::string& uid() const { return spec_.series_instance_uid; }
  [[nodiscard]] const std::string& study_uid() const { return spec_.study_instance_uid; }
  [[nodiscard]] const std::vector<std::string>& sop_instance_uids() const { return sop_instance_uids_; }

 private:
  int expected_;
  ImageSpec spec_;
  std::function<int(int)> value_;
  harness::TempDir staging_{"creni-series-staging"};
  std::vector<std::string> sop_instance_uids_;
};

/// A series run as `status --json` shows it.
struct SeriesRunView {
  int run = 0;
  std::string state;
  long received = 0;
  long expected = 0;
  std::string completed_by;
  std::string result;
  std::string summary;
};

/// The runs of a series, by run number.
[[nodiscard]] std::vector<SeriesRunView> runs_of(const NodeUnderTest& node, const std::string& series_uid);

/// Waits until run `run` of the series is in `state`; returns it (run 0 when it never got there).
[[nodiscard]] SeriesRunView wait_for_run(const NodeUnderTest& node, const Series& series, int run, const std::string& state,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// Waits until run 1 of the series holds `received` instances.
[[nodiscard]] bool wait_for_received(const NodeUnderTest& node, const Series& series, long received);

/// The report as dsr2xml prints it.
[[nodiscard]] std::string report_xml(const std::string& file);

/// How often `what` occurs in `text`.
[[nodiscard]] std::size_t occurrences(const std::string& text, const std::string& what);

}  // namespace creni::testing
