#include "creni/common/uid.hpp"

#include <gtest/gtest.h>

namespace creni::uid {
namespace {

TEST(Uid, accepts_ordinary_uids) {
  EXPECT_TRUE(is_valid("1.2.840.10008.5.1.4.1.1.2"));
  EXPECT_TRUE(is_valid("0"));
  EXPECT_TRUE(is_valid("2.25.0"));
  EXPECT_TRUE(is_valid(std::string(64, '1')));
}

TEST(Uid, refuses_what_could_become_a_path_or_break_a_pacs) {
  for (const char* bad : {"", ".", "..", "../../../tmp/pwn", "/etc/x", "a/b", "1.02.3", "1.2.x", "1..2", "1.2.",
                          ".1.2", "1.2 3", "1\\2"}) {
    EXPECT_FALSE(is_valid(bad)) << bad;
  }
  EXPECT_FALSE(is_valid(std::string(65, '1')));
  EXPECT_FALSE(is_valid(std::string("1.2\0.3", 6)));
}

TEST(Uid, strips_one_trailing_nul_and_trailing_spaces) {
  bool spaced = true;
  EXPECT_EQ(strip_padding(std::string("1.2.3\0", 6), &spaced), "1.2.3");
  EXPECT_FALSE(spaced);
  EXPECT_EQ(strip_padding("1.2.3  ", &spaced), "1.2.3");
  EXPECT_TRUE(spaced);
}

TEST(Uid, validated_names_the_attribute_in_its_error) {
  const auto result = validated("../x", "SOPInstanceUID");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "invalid_uid");
  EXPECT_NE(result.error().message.find("SOPInstanceUID"), std::string::npos);
  EXPECT_EQ(validated(std::string("1.2\0", 4), "x").value(), "1.2");
}

TEST(Uid, derivation_is_deterministic_valid_and_role_specific) {
  const std::string original = "1.2.276.0.7230010.3.1.2.330040832.1.1707350883.230569";
  const std::string study = derive(Role::study, original);
  EXPECT_EQ(study, derive(Role::study, original));
  EXPECT_NE(study, derive(Role::series, original));
  EXPECT_NE(study, derive(Role::sop_instance, original));
  EXPECT_NE(study, derive(Role::study, original + "1"));
  EXPECT_EQ(study.rfind("2.25.", 0), 0u);
  EXPECT_TRUE(is_valid(study)) << study;
  EXPECT_LE(study.size(), 44u);
}

TEST(Uid, derived_uids_are_valid_for_many_inputs) {
  for (int i = 0; i < 2000; ++i) {
    const std::string derived = derive(Role::sop_instance, "1.2.3." + std::to_string(i));
    ASSERT_TRUE(is_valid(derived)) << derived;
  }
}

}  // namespace
}  // namespace creni::uid
