#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "retention_fixture.hpp"

namespace creni::retention {
namespace {

// A sweep killed with SIGKILL at a named crash point (README: CRENI_CRASH_AT) in a child process, then a sweep
// in this process: the study is never half removed from image.db, and the second sweep finishes the work.
class RetentionCrash : public RetentionTest, public ::testing::WithParamInterface<const char*> {
 protected:
  // Runs one sweep in a forked child that dies at `point`; returns whether it died of SIGKILL.
  bool sweep_killed_at(const std::string& point) {
    const auto marker = dir_ / "crash-marker";
    const pid_t child = ::fork();
    if (child == 0) {
      ::setenv("CRENI_CRASH_AT", point.c_str(), 1);
      ::setenv("CRENI_CRASH_MARKER", marker.c_str(), 1);
      auto sweeper = Sweeper::open(config_);
      if (sweeper.ok()) sweeper.value()->sweep_once();
      ::_exit(0);  // reached only when the crash point was not
    }
    int status = 0;
    if (::waitpid(child, &status, 0) != child) return false;
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && std::filesystem::exists(marker);
  }
};

TEST_P(RetentionCrash, a_sweep_killed_midway_leaves_whole_studies_and_the_next_sweep_completes_it) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(result("11." + std::to_string(i), "11", 31 * kDayMs));
  ids.push_back(result("12.0", "12", 31 * kDayMs, {}, 1000, journal::Source::scp));
  const auto young = result("11.9", "11", 0);
  journal_.reset();  // the child must not share this process's open journal connection

  ASSERT_TRUE(sweep_killed_at(GetParam()));
  for (auto id : ids) EXPECT_EQ(retention_state(id), "sweeping") << id;
  // Either every row of a study is there or none is: the rows go in one transaction per image.db.
  const auto images = count(output_index(), "SELECT count(*) FROM image");
  EXPECT_TRUE(images == 5 || images == 1) << images;
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM image i JOIN series s ON s.id = i.referenceId JOIN study st "
                                  "ON st.id = s.referenceId"),
            images);

  const auto report = sweep();
  EXPECT_EQ(report.results_removed, 4);
  EXPECT_EQ(report.errors, 0);
  for (auto id : ids) EXPECT_EQ(retention_state(id), "swept") << id;
  EXPECT_EQ(retention_state(young), "kept");
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM image"), 1);
  EXPECT_EQ(count(output_index(), "SELECT count(*) FROM study"), 1);
  EXPECT_EQ(count(input_index(), "SELECT count(*) FROM image"), 0);
  EXPECT_EQ(count(input_index(), "SELECT count(*) FROM study"), 0);
  EXPECT_EQ(harness::files_below(config_.output_dir / "gateway_1").size(), 2U);  // the young result, image.db
}

INSTANTIATE_TEST_SUITE_P(CrashPoints, RetentionCrash,
                         ::testing::Values("retention_marked", "retention_uncatalogued"));

}  // namespace
}  // namespace creni::retention
