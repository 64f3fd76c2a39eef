// The start-up check that size caps fit above the free-space watermark, on volumes the test describes.
#include "creni/retention/capacity_check.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "harness.hpp"

namespace creni::retention {
namespace {

constexpr std::uint64_t kGB = 1'000'000'000;

class CapacityCheck : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.output_dir = dir_ / "OUTPUT";
    config_.state_dir = dir_ / "state";
    config_.min_free_mb = 1024;  // 1 GiB
    for (const char* id : {"1", "2"}) {
      config::GatewayConfig gateway;
      gateway.id = id;
      config_.gateways.push_back(gateway);
    }
  }

  // OUTPUT on device 1, the state folder on device `state_device`, each `size_gb` large.
  VolumeLookup volumes(std::uint64_t state_device, std::uint64_t size_gb) const {
    return [this, state_device, size_gb](const std::filesystem::path& folder) -> std::optional<fs::Volume> {
      fs::Volume volume;
      volume.device = folder == config_.output_dir ? 1U : state_device;
      volume.size_bytes = size_gb * kGB;
      return volume;
    };
  }

  harness::TempDir dir_;
  config::NodeConfig config_;
};

TEST_F(CapacityCheck, no_cap_no_warning_however_small_the_volume) {
  EXPECT_TRUE(capacity_warnings(config_, volumes(1, 1)).empty());
}

TEST_F(CapacityCheck, caps_of_all_gateways_on_one_volume_are_added_against_its_size_less_min_free_mb) {
  config_.retention.limits.output_max_bytes = 4 * kGB;  // [retention]: both gateways, 8 GB on a 10 GB volume
  EXPECT_TRUE(capacity_warnings(config_, volumes(2, 10)).empty());
  config::RetentionLimits bigger = config_.retention.limits;
  bigger.output_max_bytes = 5 * kGB;  // 9 GB: above 10 GB less 1 GiB
  config_.gateways[1].retention = bigger;
  const auto warnings = capacity_warnings(config_, volumes(2, 10));
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("volume of OUTPUT add up to 9.0 GB"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("gateway 2 output_max_bytes 5.0 GB"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("8.9 GB it can hold above node.min_free_mb (1024 MiB of 10.0 GB)"), std::string::npos)
      << warnings[0];
  EXPECT_NE(warnings[0].find("intake stops before these caps remove anything"), std::string::npos) << warnings[0];
}

TEST_F(CapacityCheck, output_quarantine_and_the_journal_count_together_when_they_share_a_volume) {
  config_.retention.limits.output_max_bytes = 3 * kGB;
  config_.retention.limits.quarantine_max_bytes = 1 * kGB;  // 2 x 4 GB = 8 GB
  std::filesystem::create_directories(config_.state_dir);
  std::ofstream(config_.state_dir / "journal.db", std::ios::binary) << std::string(1000, 'j');
  EXPECT_TRUE(capacity_warnings(config_, volumes(2, 8)).empty()) << "apart: 6 GB and 2 GB on 8 GB volumes";
  const auto warnings = capacity_warnings(config_, volumes(1, 8));
  ASSERT_EQ(warnings.size(), 1U);
  EXPECT_NE(warnings[0].find("volume of OUTPUT and the state folder add up to 8.0 GB"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("gateway 1 quarantine_max_bytes 1.0 GB"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("the journal now 0.0 GB"), std::string::npos) << warnings[0];
}

TEST_F(CapacityCheck, a_volume_that_cannot_be_asked_is_not_judged) {
  config_.retention.limits.output_max_bytes = 1000 * kGB;
  EXPECT_TRUE(capacity_warnings(config_, [](const std::filesystem::path&) { return std::optional<fs::Volume>{}; }).empty());
}

}  // namespace
}  // namespace creni::retention
