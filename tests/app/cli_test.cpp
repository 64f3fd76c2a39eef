#include <gtest/gtest.h>

#include <fstream>

#include "harness.hpp"

namespace creni::app {
namespace {

using harness::run_command;

const std::string kNode = CRENI_NODE_BINARY;

TEST(Cli, version_prints_the_version_and_exits_zero) {
  const auto result = run_command({kNode, "version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("creni-node"), std::string::npos);
  EXPECT_NE(result.out.find("DCMTK 3.6.7"), std::string::npos);
}

TEST(Cli, help_is_available_on_every_command) {
  for (const char* command : {"run", "process", "version"}) {
    const auto result = run_command({kNode, command, "--help"});
    EXPECT_EQ(result.exit_code, 0) << command;
    EXPECT_NE(result.out.find("Usage"), std::string::npos) << command;
  }
}

TEST(Cli, an_unknown_command_is_a_usage_error) {
  const auto result = run_command({kNode, "frobnicate"});
  EXPECT_EQ(result.exit_code, 2);
}

TEST(Cli, no_command_is_a_usage_error) { EXPECT_EQ(run_command({kNode}).exit_code, 2); }

TEST(Cli, process_without_arguments_is_a_usage_error) {
  const auto result = run_command({kNode, "process"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("IN"), std::string::npos) << result.err;
}

TEST(Cli, an_invalid_config_is_refused_with_the_key_and_exit_code_2) {
  harness::TempDir dir;
  const auto config = dir / "bad.toml";
  std::ofstream(config) << "[scp]\nport = 0\n";
  std::ofstream(dir / "in.dcm") << "x";
  const auto result = run_command({kNode, "process", "--config", config.string(), (dir / "in.dcm").string(),
                                   (dir / "out.dcm").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("scp.port"), std::string::npos) << result.err;
}

TEST(Cli, a_bad_retention_value_stops_the_start_with_the_key_and_exit_code_2) {
  harness::TempDir dir;
  const auto config = dir / "bad.toml";
  std::ofstream(config) << "[retention]\noutput_max_bytes = \"lots\"\n";
  const auto result = run_command({kNode, "run", "--config", config.string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("retention.output_max_bytes"), std::string::npos) << result.err;
}

TEST(Cli, process_rejects_a_text_file_with_its_reason_and_writes_nothing) {
  harness::TempDir dir;
  std::ofstream(dir / "notes.txt") << "this is not an image\n";
  const auto result = run_command({kNode, "process", (dir / "notes.txt").string(), (dir / "out.dcm").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("not_dicom"), std::string::npos) << result.out;
  EXPECT_FALSE(std::filesystem::exists(dir / "out.dcm"));
}

TEST(Cli, process_of_a_missing_input_is_a_usage_error) {
  harness::TempDir dir;
  const auto result = run_command({kNode, "process", (dir / "missing.dcm").string(), (dir / "out.dcm").string()});
  EXPECT_EQ(result.exit_code, 2);
}

}  // namespace
}  // namespace creni::app

namespace creni::app {
namespace {

TEST(Cli, run_refuses_to_start_with_a_model_that_is_not_an_onnx_model) {
  harness::TempDir dir;
  std::ofstream(dir / "model.onnx") << "not a model";
  const auto config = dir / "node.toml";
  std::ofstream(config) << "[node]\ninput_dir = \"" << (dir / "in").string() << "\"\noutput_dir = \""
                        << (dir / "out").string() << "\"\nstate_dir = \"" << (dir / "state").string() << "\"\n"
                        << "[scp]\nenabled = false\n"
                        << "[processing]\nsteps = [\"describe\", \"infer\", \"burn_in\"]\n"
                        << "[inference]\nmodel = \"" << (dir / "model.onnx").string() << "\"\ninput_size = [32, 32]\n"
                        << "labels = [\"x\"]\n";
  const auto result = run_command({kNode, "run", "--config", config.string()}, std::chrono::seconds(30));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("inference.model"), std::string::npos) << result.err;
}

TEST(Cli, echo_reports_a_peer_that_is_not_there_and_exits_1) {
  const auto result = run_command({kNode, "echo", "127.0.0.1", std::to_string(harness::free_port()), "--timeout", "2"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.out.find("failed (connect)"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace creni::app
