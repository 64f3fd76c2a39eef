#include "creni/app/config_file.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "harness/harness.hpp"

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

TEST(ConfigFile, reads_the_scp_limits_for_slow_and_hostile_peers_with_sane_defaults) {
  const config::NodeConfig defaults = embedded_defaults();
  EXPECT_EQ(defaults.scp.max_associations_per_peer, 8);
  EXPECT_EQ(defaults.scp.inactivity_timeout_s, 60);
  EXPECT_EQ(defaults.scp.min_transfer_rate_kib_s, 8);
  EXPECT_EQ(defaults.scp.min_transfer_rate_grace_s, 10);
  EXPECT_EQ(defaults.scp.max_dataset_mb, 2048u);
  EXPECT_EQ(defaults.scp.tls_handshake_timeout_s, 10);

  auto parsed = parse_config(
      "[scp]\nbind = \"::\"\nmax_associations_per_peer = 2\ninactivity_timeout_s = 5\nmin_transfer_rate_kib_s = 0\n"
      "min_transfer_rate_grace_s = 3\nmax_dataset_mb = 10\ntls_handshake_timeout_s = 4\n",
      "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->scp.bind, "::");
  EXPECT_EQ(parsed->scp.max_associations_per_peer, 2);
  EXPECT_EQ(parsed->scp.inactivity_timeout_s, 5);
  EXPECT_EQ(parsed->scp.min_transfer_rate_kib_s, 0);
  EXPECT_EQ(parsed->scp.min_transfer_rate_grace_s, 3);
  EXPECT_EQ(parsed->scp.max_dataset_mb, 10u);
  EXPECT_EQ(parsed->scp.tls_handshake_timeout_s, 4);

  EXPECT_NE(error_of("[scp]\nmax_associations_per_peer = 0\n").find("scp.max_associations_per_peer"), std::string::npos);
  EXPECT_NE(error_of("[scp]\ninactivity_timeout_s = 0\n").find("scp.inactivity_timeout_s"), std::string::npos);
  EXPECT_NE(error_of("[scp]\nmax_dataset_mb = 0\n").find("scp.max_dataset_mb"), std::string::npos);
  EXPECT_NE(error_of("[scp]\nmin_transfer_rate_grace_s = 0\n").find("scp.min_transfer_rate_grace_s"),
            std::string::npos);
}

TEST(ConfigFile, http_defaults_and_keys_are_the_contract_names) {
  const config::NodeConfig defaults = embedded_defaults();
  EXPECT_TRUE(defaults.http.enabled);
  EXPECT_EQ(defaults.http.listen, "127.0.0.1:11180");
  EXPECT_TRUE(defaults.http.token_file.empty());
  const auto parsed = parse_config("[http]\nenabled = false\nlisten = \"0.0.0.0:8080\"\ntoken_file = \"/etc/creni/token\"\n",
                                   "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_FALSE(parsed->http.enabled);
  EXPECT_EQ(parsed->http.listen, "0.0.0.0:8080");
  EXPECT_EQ(parsed->http.token_file, "/etc/creni/token");
}

TEST(ConfigFile, refuses_an_http_listen_address_that_is_reachable_from_elsewhere_without_a_token) {
  EXPECT_NE(error_of("[http]\nlisten = \"0.0.0.0:11180\"\n").find("http.listen"), std::string::npos);
  EXPECT_NE(error_of("[http]\nlisten = \"192.168.1.5:11180\"\n").find("token_file"), std::string::npos);
  EXPECT_TRUE(parse_config("[http]\nlisten = \"127.0.0.2:11180\"\n", "t").ok());
  EXPECT_TRUE(parse_config("[http]\nlisten = \"localhost:11180\"\n", "t").ok());
  EXPECT_TRUE(parse_config("[http]\nenabled = false\nlisten = \"0.0.0.0:11180\"\n", "t").ok());
}

TEST(ConfigFile, refuses_a_malformed_http_listen_address) {
  for (const char* listen : {"11180", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:70000", "127.0.0.1:80x", "example.org:80"}) {
    EXPECT_NE(error_of(std::string("[http]\nlisten = \"") + listen + "\"\n").find("http.listen"), std::string::npos)
        << listen;
  }
}

TEST(ConfigFile, reads_the_http_token_without_surrounding_white_space) {
  harness::TempDir dir;
  std::ofstream(dir / "token") << "  abc-123\n";
  EXPECT_EQ(config::read_http_token(dir / "token").value(), "abc-123");
  std::ofstream(dir / "empty") << "\n";
  EXPECT_FALSE(config::read_http_token(dir / "empty").ok());
  std::ofstream(dir / "two") << "abc def";
  EXPECT_FALSE(config::read_http_token(dir / "two").ok());
  EXPECT_EQ(config::read_http_token(dir / "missing").error().code, "invalid_config");
}

TEST(ConfigFile, refuses_unknown_keys_with_their_full_name) {
  EXPECT_NE(error_of("[scp]\nprot = 1\n").find("scp.prot: unknown key"), std::string::npos);
  EXPECT_NE(error_of("colour = 1\n").find("colour: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\nlayout = \"flat\"\n").find("gateway[0].layout: unknown key"),
            std::string::npos);
}

TEST(ConfigFile, non_image_is_a_node_wide_default_with_a_per_gateway_override) {
  const auto parsed = parse_config(
      "[processing]\nnon_image = \"pass\"\n[[gateway]]\nid = \"1\"\nnon_image = \"ignore\"\n[[gateway]]\nid = \"2\"\n",
      "test.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().describe();
  EXPECT_EQ(parsed->non_image_for("1"), config::NonImagePolicy::ignore);
  EXPECT_EQ(parsed->non_image_for("2"), config::NonImagePolicy::pass);
  EXPECT_EQ(parsed->non_image_for("unknown"), config::NonImagePolicy::pass);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\nnon_image = \"drop\"\n").find("gateway[0].non_image"),
            std::string::npos);
  EXPECT_NE(error_of("[processing]\nnon_image = \"skip\"\n").find("processing.non_image"), std::string::npos);
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

TEST(ConfigFile, series_are_off_until_a_series_table_appears_and_two_lines_switch_a_module_on) {
  const auto plain = parse_config("[node]\nworkers = 1\n", "plain.toml");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->series.enabled);
  EXPECT_EQ(plain->output_study, config::OutputStudy::derived);

  const auto two_lines = parse_config("[series.external]\ncommand = [\"/bin/true\"]\n[[gateway]]\nid = \"1\"\n", "two.toml");
  ASSERT_TRUE(two_lines.ok()) << two_lines.error().message;
  EXPECT_TRUE(two_lines->series.enabled);
  EXPECT_EQ(two_lines->series.steps, std::vector<std::string>{"external"});
  EXPECT_EQ(two_lines->series.idle_s, 5.0);
  EXPECT_EQ(two_lines->series.late, config::LatePolicy::reopen);
  EXPECT_TRUE(two_lines->gateways[0].series.enabled) << "[series] is every gateway's default";
}

TEST(ConfigFile, reads_series_and_output_study_with_per_gateway_overrides) {
  const auto parsed = parse_config(R"(
[output]
study = "original"
[series]
idle = 2.5
max_wait = 60
complete_on_release = true
late = "separate"
steps = []
[[gateway]]
id = "1"
[[gateway]]
id = "2"
[gateway.output]
study = "derived"
[gateway.series]
idle = 10
late = "reopen"
)", "series.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->output_study, config::OutputStudy::original);
  EXPECT_EQ(parsed->series.idle_s, 2.5);
  EXPECT_EQ(parsed->series.max_wait_s, 60.0);
  EXPECT_TRUE(parsed->series.complete_on_release);
  EXPECT_EQ(parsed->series.late, config::LatePolicy::separate);
  EXPECT_TRUE(parsed->series.steps.empty());
  const auto& first = parsed->gateways[0];
  EXPECT_EQ(first.output_study, config::OutputStudy::original);
  EXPECT_EQ(first.series.idle_s, 2.5);
  EXPECT_EQ(first.series.late, config::LatePolicy::separate);
  const auto& second = parsed->gateways[1];
  EXPECT_EQ(second.output_study, config::OutputStudy::derived);
  EXPECT_EQ(second.series.idle_s, 10.0);
  EXPECT_EQ(second.series.max_wait_s, 60.0);
  EXPECT_TRUE(second.series.complete_on_release);
  EXPECT_EQ(second.series.late, config::LatePolicy::reopen);
}

TEST(ConfigFile, refuses_series_mistakes_naming_the_key) {
  EXPECT_NE(error_of("[series]\nlate = \"drop\"\n").find("series.late"), std::string::npos);
  EXPECT_NE(error_of("[series]\nidle = 0\n").find("series.idle"), std::string::npos);
  EXPECT_NE(error_of("[series]\nidle = 10\nmax_wait = 5\n").find("series.max_wait"), std::string::npos);
  EXPECT_NE(error_of("[series]\nsteps = [\"external\"]\n").find("series.external.command"), std::string::npos);
  EXPECT_NE(error_of("[series]\nsteps = [\"sharpen\"]\n").find("series.steps[0]"), std::string::npos);
  EXPECT_NE(error_of("[series]\nwait = 3\n").find("series.wait"), std::string::npos);
  EXPECT_NE(error_of("[output]\nstudy = \"new\"\n").find("output.study"), std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\n[gateway.series]\nlate = \"x\"\n").find("gateway[0].series.late"),
            std::string::npos);
}

TEST(ConfigFile, reads_series_infer_with_the_inference_keys_and_its_own_and_per_gateway_overrides) {
  const std::string model = std::string(CRENI_SOURCE_DIR) + "/conf/creni-node.toml";  // any existing file
  const auto parsed = parse_config(R"([series.infer]
model = ")" + model + R"("
labels = ["nodule", "clear"]
threshold = 0.4
input_size = [64, 48]
mapping = "fixed_window"
window_center = -600
window_width = 1500
layout = "ndhw"
depth = 32
timeout_s = 90
memory_mb = 1024
algorithm_name = "lung-screen"
[[gateway]]
id = "1"
[[gateway]]
id = "2"
[gateway.series.infer]
depth = 16
layout = "ncdhw"
)", "infer.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const config::SeriesConfig& series = parsed->series;
  EXPECT_TRUE(series.enabled);
  EXPECT_EQ(series.steps, std::vector<std::string>{"infer"}) << "a model in [series.infer] switches the step on";
  EXPECT_EQ(series.infer.model.model, model);
  EXPECT_EQ(series.infer.model.labels, (std::vector<std::string>{"nodule", "clear"}));
  EXPECT_EQ(series.infer.model.threshold, 0.4);
  EXPECT_EQ(series.infer.model.input_width, 64);
  EXPECT_EQ(series.infer.model.input_height, 48);
  EXPECT_EQ(series.infer.model.mapping, config::ValueMapping::fixed_window);
  EXPECT_EQ(series.infer.model.window_center, -600.0);
  EXPECT_EQ(series.infer.layout, config::StackLayout::ndhw);
  EXPECT_EQ(series.infer.depth, 32);
  EXPECT_EQ(series.infer.timeout_s, 90);
  EXPECT_EQ(series.infer.memory_mb, 1024U);
  EXPECT_EQ(series.infer.model.algorithm_name, "lung-screen");
  EXPECT_EQ(parsed->gateways[0].series.infer.depth, 32);
  EXPECT_EQ(parsed->gateways[1].series.infer.depth, 16);
  EXPECT_EQ(parsed->gateways[1].series.infer.layout, config::StackLayout::ncdhw);
  EXPECT_EQ(parsed->gateways[1].series.infer.model.labels, series.infer.model.labels) << "overridden key by key";
}

TEST(ConfigFile, refuses_series_infer_mistakes_naming_the_key) {
  const std::string model = std::string(CRENI_SOURCE_DIR) + "/conf/creni-node.toml";
  const std::string infer = "[series]\nsteps = [\"infer\"]\n[series.infer]\n";
  const std::string with_model = infer + "model = \"" + model + "\"\nlabels = [\"x\"]\n";
  EXPECT_NE(error_of(infer).find("series.infer.model: required by series step 'infer'"), std::string::npos);
  EXPECT_NE(error_of(infer + "model = \"/nonexistent.onnx\"\n").find("series.infer.model: file not found"), std::string::npos);
  EXPECT_NE(error_of(infer + "model = \"" + model + "\"\n").find("series.infer.labels"), std::string::npos);
  EXPECT_NE(error_of(with_model + "layout = \"nchw\"\n").find("series.infer.layout"), std::string::npos);
  EXPECT_NE(error_of(with_model + "layout = \"ndhw\"\nchannels = 3\n").find("series.infer.channels"), std::string::npos);
  EXPECT_NE(error_of(with_model + "depth = -1\n").find("series.infer.depth"), std::string::npos);
  EXPECT_NE(error_of(with_model + "memory_mb = 999999\n").find("series.infer.memory_mb"), std::string::npos);
  EXPECT_NE(error_of(with_model + "threshold = 2\n").find("series.infer.threshold"), std::string::npos);
  EXPECT_NE(error_of(with_model + "input_size = [16]\n").find("series.infer.input_size"), std::string::npos);
  EXPECT_NE(error_of(with_model + "task = \"segmentation\"\n").find("series.infer.task: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[series]\nsteps = [\"infer\", \"infer\"]\n[series.infer]\nmodel = \"" + model +
                     "\"\nlabels = [\"x\"]\n").find("series.steps[1]"),
            std::string::npos);
  EXPECT_NE(error_of("[[gateway]]\nid = \"1\"\n[gateway.series]\nsteps = [\"infer\"]\n").find("gateway[0].series.infer.model"),
            std::string::npos);
  EXPECT_TRUE(parse_config(with_model, "ok.toml").ok()) << "the same keys, valid";
}

TEST(ConfigFile, reads_association_sharing_per_destination_and_refuses_unknown_modes) {
  const auto parsed = parse_config(
      "[[destination]]\nname = \"a\"\nae_title = \"A\"\nshare_association = \"study\"\n"
      "[[destination]]\nname = \"b\"\nae_title = \"B\"\n",
      "sharing.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->destinations[0].share_association, config::AssociationSharing::study);
  EXPECT_EQ(parsed->destinations[1].share_association, config::AssociationSharing::none);
  EXPECT_NE(error_of("[[destination]]\nname = \"a\"\nae_title = \"A\"\nshare_association = \"series\"\n")
                .find("destination[0].share_association"),
            std::string::npos);
}

TEST(ConfigFile, reads_every_inference_key) {
  const std::string model = std::string(CRENI_SOURCE_DIR) + "/conf/creni-node.toml";  // any existing file
  const auto parsed = parse_config(R"(
[processing]
steps = ["describe", "infer", "external", "burn_in"]

[inference]
model = ")" + model + R"("
input_size = [256, 128]
channels = 3
layout = "nhwc"
mapping = "fixed_window"
window_center = -600
window_width = 1500.5
scale = 0.5
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
task = "segmentation"
labels = ["nodule", "mass"]
threshold = 0.7
mask_threshold = 1
output = "probabilities"
frames = "middle"
threads = 2
algorithm_name = "nodule-screen"
algorithm_version = "2.1"

[inference.external]
command = ["/usr/bin/python3", "/opt/module.py"]
timeout_s = 20
memory_mb = 512
environment = ["OMP_NUM_THREADS=1"]
parameters = { sensitivity = "high", mode = "fast" }
)",
                                   "inference.toml");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const config::InferenceConfig& ai = parsed->inference;
  EXPECT_EQ(ai.model, model);
  EXPECT_EQ(ai.input_width, 256);
  EXPECT_EQ(ai.input_height, 128);
  EXPECT_EQ(ai.channels, 3);
  EXPECT_EQ(ai.layout, config::TensorLayout::nhwc);
  EXPECT_EQ(ai.mapping, config::ValueMapping::fixed_window);
  EXPECT_DOUBLE_EQ(ai.window_center, -600);
  EXPECT_DOUBLE_EQ(ai.window_width, 1500.5);
  EXPECT_DOUBLE_EQ(ai.scale, 0.5);
  EXPECT_EQ(ai.mean, (std::vector<double>{0.485, 0.456, 0.406}));
  EXPECT_EQ(ai.stddev, (std::vector<double>{0.229, 0.224, 0.225}));
  EXPECT_EQ(ai.task, config::InferenceTask::segmentation);
  EXPECT_EQ(ai.labels, (std::vector<std::string>{"nodule", "mass"}));
  EXPECT_DOUBLE_EQ(ai.threshold, 0.7);
  EXPECT_DOUBLE_EQ(ai.mask_threshold, 1.0);
  EXPECT_EQ(ai.output, "probabilities");
  EXPECT_EQ(ai.frames, config::FrameSelection::middle);
  EXPECT_EQ(ai.threads, 2);
  EXPECT_EQ(ai.algorithm_name, "nodule-screen");
  EXPECT_EQ(ai.algorithm_version, "2.1");
  EXPECT_EQ(ai.external.command, (std::vector<std::string>{"/usr/bin/python3", "/opt/module.py"}));
  EXPECT_EQ(ai.external.timeout_s, 20);
  EXPECT_EQ(ai.external.memory_mb, 512u);
  EXPECT_EQ(ai.external.environment, std::vector<std::string>{"OMP_NUM_THREADS=1"});
  ASSERT_EQ(ai.external.parameters.size(), 2u);
}

TEST(ConfigFile, refuses_inference_mistakes_naming_the_key) {
  const std::string model = std::string(CRENI_SOURCE_DIR) + "/conf/creni-node.toml";
  const std::string infer = "[processing]\nsteps = [\"infer\", \"burn_in\"]\n[inference]\nlabels = [\"x\"]\n";
  const std::string with_model = infer + "model = \"" + model + "\"\n";
  EXPECT_NE(error_of("[inference]\nmodle = \"x\"\n").find("inference.modle: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[inference.external]\ncmd = []\n").find("inference.external.cmd: unknown key"), std::string::npos);
  EXPECT_NE(error_of(infer).find("inference.model: required by step 'infer'"), std::string::npos);
  EXPECT_NE(error_of(infer + "model = \"/nonexistent/model.onnx\"\n").find("inference.model: file not found"),
            std::string::npos);
  EXPECT_NE(error_of(with_model + "input_size = [224]\n").find("inference.input_size"), std::string::npos);
  EXPECT_NE(error_of(with_model + "input_size = [0, 224]\n").find("inference.input_size[0]"), std::string::npos);
  EXPECT_NE(error_of(with_model + "channels = 2\n").find("inference.channels: must be 1 or 3"), std::string::npos);
  EXPECT_NE(error_of(with_model + "layout = \"chwn\"\n").find("inference.layout"), std::string::npos);
  EXPECT_NE(error_of(with_model + "mapping = \"auto\"\n").find("inference.mapping"), std::string::npos);
  EXPECT_NE(error_of(with_model + "mapping = \"fixed_window\"\nwindow_width = 0\n").find("inference.window_width"),
            std::string::npos);
  EXPECT_NE(error_of(with_model + "mean = [0.1, 0.2]\n").find("inference.mean"), std::string::npos);
  EXPECT_NE(error_of(with_model + "std = [0]\n").find("inference.std"), std::string::npos);
  EXPECT_NE(error_of(with_model + "threshold = 1.5\n").find("inference.threshold"), std::string::npos);
  EXPECT_NE(error_of(with_model + "threshold = \"high\"\n").find("inference.threshold: must be a number"),
            std::string::npos);
  EXPECT_NE(error_of(with_model + "task = \"detection\"\n").find("inference.task"), std::string::npos);
  EXPECT_NE(error_of(with_model + "frames = \"last\"\n").find("inference.frames"), std::string::npos);
  EXPECT_NE(error_of("[processing]\nsteps = [\"infer\"]\n[inference]\nmodel = \"" + model + "\"\nlabels = []\n")
                .find("inference.labels"),
            std::string::npos);
  EXPECT_NE(error_of("[processing]\nsteps = [\"infer\"]\n[inference]\nmodel = \"" + model + "\"\nlabels = [\"a\", \"a\"]\n")
                .find("inference.labels[1]: duplicate"),
            std::string::npos);
  EXPECT_NE(error_of("[processing]\nsteps = [\"burn_in\", \"infer\"]\n[inference]\nlabels = [\"x\"]\nmodel = \"" + model + "\"\n")
                .find("'infer' must come before 'burn_in'"),
            std::string::npos);

  const std::string external = "[processing]\nsteps = [\"external\"]\n[inference.external]\n";
  EXPECT_NE(error_of(external).find("inference.external.command: required by step 'external'"), std::string::npos);
  EXPECT_NE(error_of(external + "command = [\"python3\"]\n").find("inference.external.command[0]: must be an absolute path"),
            std::string::npos);
  EXPECT_NE(error_of(external + "command = [\"/nonexistent/module\"]\n").find("not an executable file"), std::string::npos);
  EXPECT_NE(error_of(external + "command = [\"/usr/bin/python3\"]\nenvironment = [\"NOVALUE\"]\n")
                .find("inference.external.environment[0]"),
            std::string::npos);
  EXPECT_NE(error_of(external + "command = [\"/usr/bin/python3\"]\nmemory_mb = 999999\n").find("inference.external.memory_mb"),
            std::string::npos);
  EXPECT_NE(error_of(external + "command = [\"/usr/bin/python3\"]\nparameters = { level = 3 }\n")
                .find("inference.external.parameters.level: must be a string"),
            std::string::npos);
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

TEST(ConfigFile, a_destination_host_is_an_ipv4_or_ipv6_address_or_a_host_name) {
  for (const std::string host : {"10.0.0.5", "::1", "[::1]", "fd00::2", "pacs", "pacs-1.example.org", "pacs.",
                                 "PACS_01.hospital.local"}) {
    EXPECT_TRUE(config::is_valid_host(host)) << host;
  }
  for (const std::string& host : std::vector<std::string>{"pacs:104", "[::1", "::1]", "[pacs]", "pacs host",
                                                          "http://pacs", "-pacs", "pacs-", "pacs..org", ".pacs",
                                                          std::string(64, 'a') + ".org"}) {
    EXPECT_FALSE(config::is_valid_host(host)) << host;
  }
  const std::string message = error_of(
      "[[destination]]\nname = \"pacs\"\nhost = \"pacs:104\"\nport = 104\nae_title = \"PACS\"\n");
  EXPECT_NE(message.find("destination[0].host"), std::string::npos) << message;
}

}  // namespace
}  // namespace creni::app
