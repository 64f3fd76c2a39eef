#include <gtest/gtest.h>

#include "creni/app/config_file.hpp"

namespace creni::app {
namespace {

constexpr std::int64_t kDay = 86400;

std::string error_of(std::string_view text) {
  const auto parsed = parse_config(text, "test.toml");
  EXPECT_FALSE(parsed.ok()) << "expected a refusal for:\n" << text;
  return parsed.ok() ? std::string() : parsed.error().message;
}

TEST(RetentionConfig, defaults_keep_what_was_not_delivered_and_have_no_size_caps) {
  const auto parsed = parse_config("", "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  const auto& r = parsed->retention;
  EXPECT_EQ(r.limits.output_max_age_s, 30 * kDay);
  EXPECT_EQ(r.limits.archive_max_age_s, 30 * kDay);
  EXPECT_EQ(r.limits.quarantine_max_age_s, 90 * kDay);
  EXPECT_EQ(r.journal_max_age_s, 90 * kDay);
  EXPECT_EQ(r.sweep_interval_s, 600);
  EXPECT_EQ(r.limits.output_max_bytes, config::kNoSizeLimit);
  EXPECT_EQ(r.limits.quarantine_max_bytes, config::kNoSizeLimit);
  EXPECT_FALSE(r.limits.delete_unforwarded);
}

TEST(RetentionConfig, human_durations_and_sizes_are_read_with_their_units) {
  const auto parsed = parse_config(R"(
[retention]
output_max_age = "12h"
output_max_bytes = "50GB"
archive_max_age = "off"
quarantine_max_age = "2w"
quarantine_max_bytes = "512MiB"
journal_max_age = "45s"
sweep_interval = "15m"
delete_unforwarded = true
)", "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  const auto& r = parsed->retention;
  EXPECT_EQ(r.limits.output_max_age_s, 12 * 3600);
  EXPECT_EQ(r.limits.output_max_bytes, 50'000'000'000ULL);
  EXPECT_EQ(r.limits.archive_max_age_s, config::kNoAgeLimit);
  EXPECT_EQ(r.limits.quarantine_max_age_s, 14 * kDay);
  EXPECT_EQ(r.limits.quarantine_max_bytes, 512ULL * 1024 * 1024);
  EXPECT_EQ(r.journal_max_age_s, 45);
  EXPECT_EQ(r.sweep_interval_s, 900);
  EXPECT_TRUE(r.limits.delete_unforwarded);
}

TEST(RetentionConfig, a_gateway_overrides_some_keys_and_inherits_the_rest) {
  const auto parsed = parse_config(R"(
[retention]
output_max_age = "7d"
output_max_bytes = "10GB"

[[gateway]]
id = "a"
[gateway.retention]
output_max_age = "1d"
delete_unforwarded = true

[[gateway]]
id = "b"
)", "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  const auto& a = parsed->retention_for("a");
  EXPECT_EQ(a.output_max_age_s, kDay);
  EXPECT_EQ(a.output_max_bytes, 10'000'000'000ULL);
  EXPECT_TRUE(a.delete_unforwarded);
  const auto& b = parsed->retention_for("b");
  EXPECT_EQ(b.output_max_age_s, 7 * kDay);
  EXPECT_FALSE(b.delete_unforwarded);
  EXPECT_EQ(parsed->retention_for("discovered").output_max_age_s, 7 * kDay);
}

TEST(RetentionConfig, bad_values_are_refused_naming_the_key) {
  EXPECT_NE(error_of("[retention]\noutput_max_age = \"30 days\"").find("retention.output_max_age"), std::string::npos);
  EXPECT_NE(error_of("[retention]\noutput_max_age = \"-1d\"").find("retention.output_max_age"), std::string::npos);
  EXPECT_NE(error_of("[retention]\noutput_max_bytes = \"50XB\"").find("retention.output_max_bytes"), std::string::npos);
  EXPECT_NE(error_of("[retention]\nquarantine_max_bytes = \"0MB\"").find("retention.quarantine_max_bytes"),
            std::string::npos);
  EXPECT_NE(error_of("[retention]\njournal_max_age = 30").find("retention.journal_max_age"), std::string::npos);
  EXPECT_NE(error_of("[retention]\nsweep_interval = \"off\"").find("retention.sweep_interval"), std::string::npos);
  EXPECT_NE(error_of("[retention]\nsweep_interval = \"99999999999999999999d\"").find("retention.sweep_interval"),
            std::string::npos);
  EXPECT_NE(error_of("[retention]\nkeep_forever = true").find("retention.keep_forever"), std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\n[gateway.retention]\narchive_max_age = \"1y\"")
                .find("gateway[0].retention.archive_max_age"),
            std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\n[gateway.retention]\njournal_max_age = \"1d\"")
                .find("gateway[0].retention.journal_max_age"),
            std::string::npos);
}

TEST(RetentionConfig, durations_print_back_in_the_form_they_are_read) {
  for (const char* text : {"30d", "12h", "15m", "45s", "2w", "off"}) {
    auto seconds = config::parse_duration(text);
    ASSERT_TRUE(seconds.ok()) << text;
    EXPECT_EQ(config::format_duration(seconds.value()), text);
  }
}

}  // namespace
}  // namespace creni::app
