#include "creni/ingest/folder_watcher.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "harness.hpp"

namespace creni::ingest {
namespace {

using namespace std::chrono_literals;

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// Records every arrival with the file's size at the moment it was handed over.
class RecordingSink final : public ArrivalSink {
 public:
  AcceptResult accept(const Arrival& arrival) override {
    const std::lock_guard lock(mutex_);
    if (refusals_left_ > 0) {
      --refusals_left_;
      return {AcceptOutcome::out_of_resources, 0, "out_of_resources", "test refusal"};
    }
    struct stat info {};
    const bool is_link = ::lstat(arrival.path.c_str(), &info) == 0 && S_ISLNK(info.st_mode);
    arrivals_.push_back({arrival, is_link ? -1 : static_cast<long>(info.st_size)});
    return {AcceptOutcome::accepted, static_cast<std::int64_t>(arrivals_.size()), "", ""};
  }

  struct Seen {
    Arrival arrival;
    long size;  // -1 for a symbolic link
  };

  std::vector<Seen> seen() const {
    const std::lock_guard lock(mutex_);
    return arrivals_;
  }
  std::size_t count() const { return seen().size(); }
  void refuse_next(int n) {
    const std::lock_guard lock(mutex_);
    refusals_left_ = n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Seen> arrivals_;
  int refusals_left_ = 0;
};

class FolderWatcherTest : public ::testing::Test {
 protected:
  FolderWatcherOptions options() const {
    FolderWatcherOptions o;
    o.input_root = dir_.path() / "INPUT";
    o.gateway_ids = {"1"};
    o.settle_ms = 20;
    o.stability_ms = 300;
    o.rescan_interval_s = 1;
    return o;
  }

  FolderWatcherOptions settling_for(int settle_ms) const {
    FolderWatcherOptions o = options();
    o.settle_ms = settle_ms;
    return o;
  }

  std::filesystem::path gateway(const std::string& id = "1") const { return dir_.path() / "INPUT" / ("gateway_" + id); }

  static void write(const std::filesystem::path& path, std::size_t bytes) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << std::string(bytes, 'x');
  }

  harness::TempDir dir_{"creni-watch"};
  RecordingSink sink_;
};

TEST_F(FolderWatcherTest, takes_a_file_closed_after_writing_exactly_once) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(gateway() / "1.2.3" / "1.2.3.4", 1000);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  std::this_thread::sleep_for(1500ms);  // past one rescan: the file must not be handed over again
  const auto seen = sink_.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].arrival.gateway_id, "1");
  EXPECT_EQ(seen[0].arrival.source, ArrivalSource::folder);
  EXPECT_EQ(seen[0].arrival.path, gateway() / "1.2.3" / "1.2.3.4");
  EXPECT_EQ(seen[0].size, 1000);
}

TEST_F(FolderWatcherTest, a_file_written_in_two_halves_is_taken_once_and_only_when_complete) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  const auto path = gateway() / "slow";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  const std::string half(50000, 'a');
  ASSERT_EQ(::write(fd, half.data(), half.size()), static_cast<ssize_t>(half.size()));
  // Longer than stability_ms and than a rescan: an open writer must still hold the file back, and the watcher
  // waits for its close without spinning.
  const double cpu_before = process_cpu_seconds();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sink_.count(), 0u);
  EXPECT_LT(process_cpu_seconds() - cpu_before, 0.3);
  ASSERT_EQ(::write(fd, half.data(), half.size()), static_cast<ssize_t>(half.size()));
  ::close(fd);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].size, 100000);
}

TEST_F(FolderWatcherTest, ignores_temporary_hidden_names_and_the_tag_index) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  for (const char* name : {".hidden", "x.tmp", "x.part", "x.partial", "image.db", "image.db-wal", "image.db-journal"}) {
    write(gateway() / name, 10);
  }
  write(gateway() / "real", 10);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() >= 1; }, 5s));
  std::this_thread::sleep_for(1200ms);
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].arrival.path.filename(), "real");
}

TEST_F(FolderWatcherTest, a_temporary_file_renamed_into_place_is_taken_under_its_final_name) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(gateway() / "incoming.partial", 300);
  std::filesystem::rename(gateway() / "incoming.partial", gateway() / "incoming");
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].arrival.path.filename(), "incoming");
}

TEST_F(FolderWatcherTest, a_file_renamed_in_is_taken_at_once_while_one_closed_in_place_waits_out_the_settle_window) {
  FolderWatcher watcher(settling_for(3000), sink_);
  ASSERT_TRUE(watcher.start().ok());
  // A rename is atomic: the file is complete the moment it appears under its name.
  write(gateway() / "staged.partial", 300);
  const auto renamed_at = std::chrono::steady_clock::now();
  std::filesystem::rename(gateway() / "staged.partial", gateway() / "renamed");
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  EXPECT_LT(std::chrono::steady_clock::now() - renamed_at, 1500ms);
  EXPECT_EQ(sink_.seen()[0].arrival.path.filename(), "renamed");
  // Written and closed in place: its writer may open it again, so it waits for the quiet window.
  write(gateway() / "in-place", 300);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(sink_.count(), 1u);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 2; }, 5s));
  EXPECT_EQ(sink_.seen()[1].arrival.path.filename(), "in-place");
}

TEST_F(FolderWatcherTest, a_file_renamed_in_and_written_again_is_held_back_until_that_writer_closes) {
  FolderWatcher watcher(settling_for(3000), sink_);
  ASSERT_TRUE(watcher.start().ok());
  const auto path = gateway() / "reopened";
  // Open for writing before the rename: the lease check must still see this writer once the name appears.
  write(gateway() / "reopened.partial", 300);
  const int fd = ::open((gateway() / "reopened.partial").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  std::filesystem::rename(gateway() / "reopened.partial", path);
  const std::string more(700, 'y');
  ASSERT_EQ(::write(fd, more.data(), more.size()), static_cast<ssize_t>(more.size()));
  std::this_thread::sleep_for(1000ms);
  EXPECT_EQ(sink_.count(), 0u);
  ::close(fd);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 10s));
  EXPECT_EQ(sink_.seen()[0].size, 1000);
}

TEST_F(FolderWatcherTest, takes_files_that_were_there_before_it_started) {
  write(gateway() / "a" / "1", 10);
  write(gateway() / "a" / "2", 10);
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 2; }, 5s));
}

TEST_F(FolderWatcherTest, a_folder_moved_in_with_files_inside_is_taken_whole) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  const auto prepared = dir_.path() / "prepared";
  for (int i = 0; i < 50; ++i) write(prepared / "study" / std::to_string(i), 100);
  std::filesystem::rename(prepared / "study", gateway() / "study");
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 50; }, 10s));
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(sink_.count(), 50u);
}

TEST_F(FolderWatcherTest, discovers_new_gateway_folders_and_ignores_everything_else) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(gateway("7") / "x", 10);
  write(dir_.path() / "INPUT" / "stray_file", 10);
  write(dir_.path() / "INPUT" / "not_a_gateway" / "x", 10);
  write(dir_.path() / "INPUT" / "gateway_..bad" / "x", 10);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() >= 1; }, 5s));
  std::this_thread::sleep_for(1200ms);
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].arrival.gateway_id, "7");
}

TEST_F(FolderWatcherTest, undiscovered_gateways_are_ignored_when_discovery_is_off) {
  auto o = options();
  o.discover_gateways = false;
  FolderWatcher watcher(o, sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(gateway("7") / "x", 10);
  write(gateway("1") / "y", 10);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() >= 1; }, 5s));
  std::this_thread::sleep_for(1200ms);
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].arrival.gateway_id, "1");
}

TEST_F(FolderWatcherTest, a_hard_link_is_taken_at_once_as_it_is_created_complete) {
  write(dir_.path() / "elsewhere" / "image", 2000);
  std::filesystem::create_directories(gateway());
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  std::filesystem::create_hard_link(dir_.path() / "elsewhere" / "image", gateway() / "1.2.3.4");
  // Not held back as "open for writing": there never is a close event for a link.
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 3s));
  EXPECT_EQ(sink_.seen()[0].arrival.path, gateway() / "1.2.3.4");
  EXPECT_EQ(sink_.seen()[0].size, 2000);
}

TEST_F(FolderWatcherTest, the_nodes_own_files_are_not_handed_over_unless_they_change_later) {
  auto options_with_own = options();
  options_with_own.own_files = std::make_shared<OwnInputFiles>();
  const auto own = gateway() / "1.2.3" / "1.2.3.4";
  options_with_own.own_files->add(own);
  FolderWatcher watcher(options_with_own, sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(own, 1000);
  write(gateway() / "1.2.3" / "1.2.3.5", 1000);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  std::this_thread::sleep_for(1500ms);  // past one rescan: the own file stays claimed
  ASSERT_EQ(sink_.count(), 1u);
  EXPECT_EQ(sink_.seen()[0].arrival.path, gateway() / "1.2.3" / "1.2.3.5");
  // A gateway overwrites it afterwards: that is new content, handed over like any file.
  write(own, 2000);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 2; }, 5s));
  EXPECT_EQ(sink_.seen()[1].arrival.path, own);
  EXPECT_EQ(sink_.seen()[1].size, 2000);
}

TEST_F(FolderWatcherTest, hands_over_a_symbolic_link_without_following_it) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  std::filesystem::create_directories(gateway());
  std::filesystem::create_symlink("/etc/hostname", gateway() / "link");
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
  EXPECT_EQ(sink_.seen()[0].size, -1);
}

TEST_F(FolderWatcherTest, a_refused_file_is_offered_again_later) {
  sink_.refuse_next(2);
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  write(gateway() / "x", 10);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 10s));
}

TEST_F(FolderWatcherTest, paused_intake_holds_files_until_it_resumes) {
  std::atomic<bool> paused{true};
  FolderWatcher watcher(options(), sink_, [&] { return paused.load(); });
  ASSERT_TRUE(watcher.start().ok());
  write(gateway() / "x", 10);
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(sink_.count(), 0u);
  paused = false;
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() == 1; }, 5s));
}

TEST_F(FolderWatcherTest, a_burst_of_a_thousand_files_is_handed_over_once_each) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  for (int i = 0; i < 1000; ++i) write(gateway() / ("s" + std::to_string(i / 100)) / std::to_string(i), 64);
  ASSERT_TRUE(harness::wait_until([&] { return sink_.count() >= 1000; }, 20s));
  std::this_thread::sleep_for(1200ms);
  const auto seen = sink_.seen();
  EXPECT_EQ(seen.size(), 1000u);
  std::map<std::string, int> per_path;
  for (const auto& s : seen) ++per_path[s.arrival.path.string()];
  EXPECT_EQ(per_path.size(), 1000u);
}

TEST_F(FolderWatcherTest, stops_promptly) {
  FolderWatcher watcher(options(), sink_);
  ASSERT_TRUE(watcher.start().ok());
  const auto started = std::chrono::steady_clock::now();
  watcher.stop();
  watcher.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

}  // namespace
}  // namespace creni::ingest
