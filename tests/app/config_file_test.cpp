#include "creni/app/config_file.hpp"

#include <gtest/gtest.h>

namespace creni::app {
namespace {

std::string error_of(std::string_view text) {
  const auto parsed = parse_config(text, "test.toml");
  EXPECT_FALSE(parsed.ok()) << "expected a refusal for:\n" << text;
  return parsed.ok() ? std::string() : parsed.error().message;
}

TEST(ConfigFile, the_issue_example_parses_into_the_contract_names) {
  const auto parsed = parse_config(R"(
[node]
ae_title = "CRENI"
input_dir = "INPUT"
output_dir = "OUTPUT"
state_dir = "state"
workers = 0

[scp]
enabled = true
bind = "0.0.0.0"
port = 11112

[processing]
marker = "ScreenedByAI"
steps = ["describe", "burn_in"]

[[gateway]]
id = "1"
calling_ae_titles = ["GATEWAY_1"]
output_layout = "nested"
destinations = ["pacs"]

[[destination]]
name = "pacs"
host = "127.0.0.1"
port = 4242
ae_title = "ORTHANC"
)",
                                   "example.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const config::NodeConfig& c = parsed.value();
  EXPECT_EQ(c.ae_title, "CRENI");
  EXPECT_EQ(c.scp.port, 11112);
  ASSERT_EQ(c.gateways.size(), 1u);
  EXPECT_EQ(c.gateways[0].calling_ae_titles, std::vector<std::string>{"GATEWAY_1"});
  EXPECT_EQ(c.gateways[0].output_layout, config::OutputLayout::nested);
  ASSERT_EQ(c.destinations.size(), 1u);
  EXPECT_EQ(c.destinations[0].ae_title, "ORTHANC");
  EXPECT_EQ(c.destinations[0].port, 4242);
  EXPECT_EQ(c.processing.steps, (std::vector<std::string>{"describe", "burn_in"}));
}

TEST(ConfigFile, the_shipped_config_file_is_valid) {
  const auto parsed = load_config_file(std::filesystem::path(CRENI_SOURCE_DIR) / "conf" / "creni-node.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->gateways.size(), 2u);
  EXPECT_EQ(parsed->gateways[1].output_layout, config::OutputLayout::flat);
}

TEST(ConfigFile, embedded_defaults_are_valid_and_documented_values) {
  const config::NodeConfig c = embedded_defaults();
  EXPECT_TRUE(config::validate(c).ok());
  EXPECT_EQ(c.input_dir, "INPUT");
  EXPECT_EQ(c.output_dir, "OUTPUT");
  EXPECT_EQ(c.scp.port, 11112);
  EXPECT_TRUE(c.destinations.empty());
  EXPECT_EQ(c.scp.default_gateway, "1");
}

TEST(ConfigFile, refuses_unknown_keys_with_their_full_name) {
  EXPECT_NE(error_of("[scp]\nprot = 1\n").find("scp.prot: unknown key"), std::string::npos);
  EXPECT_NE(error_of("colour = 1\n").find("colour: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\nlayout = \"flat\"\n").find("gateway[0].layout: unknown key"),
            std::string::npos);
}

TEST(ConfigFile, refuses_wrong_types_naming_the_key) {
  EXPECT_NE(error_of("[scp]\nport = \"11112\"\n").find("scp.port: must be an integer"), std::string::npos);
  EXPECT_NE(error_of("[processing]\nsteps = \"describe\"\n").find("processing.steps"), std::string::npos);
  EXPECT_NE(error_of("[node]\nworkers = true\n").find("node.workers"), std::string::npos);
}

TEST(ConfigFile, refuses_impossible_values_naming_the_key) {
  EXPECT_NE(error_of("[scp]\nport = 0\n").find("scp.port"), std::string::npos);
  EXPECT_NE(error_of("[scp]\nport = 70000\n").find("scp.port"), std::string::npos);
  EXPECT_NE(error_of("[node]\nae_title = \"THIS_TITLE_IS_TOO_LONG\"\n").find("node.ae_title"), std::string::npos);
  EXPECT_NE(error_of("[processing]\nsteps = [\"sharpen\"]\n").find("processing.steps[0]: unknown step"),
            std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"../x\"\n").find("gateway[0].id"), std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\ndestinations = [\"nowhere\"]\n").find("unknown destination 'nowhere'"),
            std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\noutput_layout = \"deep\"\n").find("gateway[0].output_layout"),
            std::string::npos);
  EXPECT_NE(error_of("[scp]\ndefault_gateway = \"9\"\n").find("scp.default_gateway"), std::string::npos);
}

TEST(ConfigFile, reports_toml_syntax_errors_with_line_and_column) {
  const std::string message = error_of("[node]\nae_title = \n");
  EXPECT_NE(message.find("test.toml:2:"), std::string::npos) << message;
}

TEST(ConfigFile, a_missing_file_is_an_invalid_config) {
  const auto parsed = load_config_file("/nonexistent/creni.toml");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, "invalid_config");
}

}  // namespace
}  // namespace creni::app
