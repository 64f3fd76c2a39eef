// The node's HTTP server end to end, against the built binary: probes, /metrics after images through both doors,
// the JSON API, and the token rules of the write endpoints.
#include <gtest/gtest.h>

#include <fstream>

#include "dicom_factory.hpp"
#include "http_client.hpp"
#include "node_under_test.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "s3cret-operator-token";

// `count` fresh images in a staging folder.
std::vector<std::filesystem::path> make_images(const harness::TempDir& staging, int count) {
  std::vector<std::filesystem::path> files;
  for (int i = 0; i < count; ++i) {
    files.push_back(staging / ("image-" + std::to_string(i) + ".dcm"));
    EXPECT_TRUE(write_image(ImageSpec{}, files.back()).ok());
  }
  return files;
}

harness::CommandResult send_with_storescu(const NodeUnderTest& node, const std::vector<std::filesystem::path>& files) {
  std::vector<std::string> argv = {harness::find_program("storescu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                   "127.0.0.1", std::to_string(node.port())};
  for (const auto& file : files) argv.push_back(file.string());
  return harness::run_command(argv, 60s);
}

// Moves files into INPUT/gateway_<id>/ (renamed in, as a careful sender does).
void drop_into_folder(const NodeUnderTest& node, const std::string& gateway, const std::vector<std::filesystem::path>& files) {
  const auto folder = node.input() / ("gateway_" + gateway);
  std::filesystem::create_directories(folder);
  for (const auto& file : files) std::filesystem::rename(file, folder / file.filename());
}

// A node with a token file (the write endpoints on) and a destination that refuses every connection.
NodeUnderTest::Settings with_token_and_dead_pacs(const std::filesystem::path& token_file) {
  NodeUnderTest::Settings settings;
  settings.http = "token_file = \"" + token_file.string() + "\"\n";
  settings.gateway_1 = "destinations = [\"pacs\"]\n";
  settings.tables = "[[destination]]\nname = \"pacs\"\nhost = \"127.0.0.1\"\nport = " +
                    std::to_string(harness::free_port()) + "\nae_title = \"PACS\"\n";
  return settings;
}

// The ids of `gateway`'s jobs in `state`, from the API.
std::vector<std::int64_t> job_ids(const NodeUnderTest& node, const std::string& query) {
  std::vector<std::int64_t> ids;
  const auto page = http_get(node.http_port(), "/api/jobs?" + query).json();
  for (const auto& job : page["jobs"]) ids.push_back(job["id"].get<std::int64_t>());
  return ids;
}

TEST(HttpApi, healthz_and_readyz_answer_once_the_node_runs) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const auto health = http_get(node.http_port(), "/healthz");
  EXPECT_EQ(health.status, 200) << health.body;
  const auto ready = http_get(node.http_port(), "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  EXPECT_EQ(ready.json()["ready"], true) << ready.body;
  EXPECT_EQ(http_get(node.http_port(), "/no/such/page").status, 404);
}

TEST(HttpApi, readyz_is_503_with_the_reason_when_free_space_is_below_the_watermark) {
  NodeUnderTest::Settings settings;
  settings.node = "min_free_mb = 1000000000\n";  // a petabyte: never free here
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  const auto ready = http_get(node.http_port(), "/readyz");
  EXPECT_EQ(ready.status, 503) << ready.body;
  const auto document = ready.json();
  EXPECT_EQ(document["ready"], false);
  ASSERT_EQ(document["reasons"].size(), 1U) << ready.body;
  EXPECT_NE(document["reasons"][0].get<std::string>().find("min_free_mb"), std::string::npos) << ready.body;
  EXPECT_EQ(http_get(node.http_port(), "/healthz").status, 200);  // alive, just not ready
}

TEST(HttpApi, metrics_count_the_images_sent_through_both_doors) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  const auto by_scp = make_images(staging, 3);
  const auto sent = send_with_storescu(node, by_scp);
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  harness::TempDir folder_staging;
  auto by_folder = make_images(folder_staging, 2);
  std::ofstream(folder_staging / "not-dicom.dcm") << "this is not a DICOM file";
  by_folder.push_back(folder_staging / "not-dicom.dcm");
  drop_into_folder(node, "2", by_folder);
  ASSERT_TRUE(node.wait_for_state("written", 5, 60s)) << node.status_json();
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 30s)) << node.status_json();

  const auto scrape = http_get(node.http_port(), "/metrics");
  ASSERT_EQ(scrape.status, 200);
  EXPECT_NE(scrape.content_type.find("text/plain; version=0.0.4"), std::string::npos) << scrape.content_type;
  const std::string& text = scrape.body;
  // What the SCP received is kept byte for byte (now mirrored into INPUT/gateway_1/): that is what was counted.
  std::uintmax_t scp_bytes = 0;
  for (const auto& file : harness::files_below(node.input() / "gateway_1")) {
    // image.db and, while a batch of index rows is being committed, its rollback journal.
    if (file.filename().string().rfind("image.db", 0) != 0) scp_bytes += std::filesystem::file_size(file);
  }
  EXPECT_EQ(metric_value(text, "creni_arrivals_total", {{"gateway", "1"}, {"door", "scp"}, {"outcome", "accepted"}}), 3) << text;
  EXPECT_EQ(metric_value(text, "creni_arrivals_total", {{"gateway", "2"}, {"door", "folder"}}), 3) << text;
  // The SCP arrivals the node mirrored into INPUT/gateway_1/ are not arrivals of the folder door.
  EXPECT_EQ(metric_value(text, "creni_arrivals_total"), 6) << text;
  EXPECT_EQ(metric_value(text, "creni_scp_received_bytes_total", {{"gateway", "1"}}), static_cast<double>(scp_bytes)) << text;
  EXPECT_EQ(metric_value(text, "creni_jobs", {{"gateway", "1"}, {"state", "written"}}), 3) << text;
  EXPECT_EQ(metric_value(text, "creni_jobs", {{"gateway", "2"}, {"state", "written"}}), 2) << text;
  EXPECT_EQ(metric_value(text, "creni_jobs_rejected", {{"gateway", "2"}, {"reason", "not_dicom"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "creni_scp_associations_total", {{"result", "released"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "creni_scp_open_associations"), 0) << text;
  EXPECT_EQ(metric_value(text, "creni_arrival_to_written_seconds_count", {{"gateway", "1"}}), 3) << text;
  EXPECT_EQ(metric_value(text, "creni_arrival_to_written_seconds_count", {{"gateway", "2"}}), 2) << text;
  EXPECT_GT(metric_value(text, "creni_arrival_to_written_seconds_sum", {{"gateway", "1"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "creni_processing_seconds_count", {{"step", "worker"}}), 5) << text;
  EXPECT_EQ(metric_value(text, "creni_workers_running"), 2) << text;
  EXPECT_EQ(metric_value(text, "creni_worker_restarts_total"), 0) << text;
  EXPECT_GT(metric_value(text, "creni_volume_free_bytes", {{"volume", "output"}}), 0) << text;
  EXPECT_EQ(metric_value(text, "creni_build_info"), 1) << text;
  EXPECT_EQ(metric_value(text, "creni_oldest_waiting_job_age_seconds"), -1) << "nothing waits: " << text;
}

TEST(HttpApi, a_worker_that_dies_is_counted_as_a_restart) {
  harness::TempDir markers;
  NodeUnderTest::Settings settings;
  // The first worker to reach this point kills itself (once): the node replaces it and the job runs again.
  settings.launcher = {"env", "CRENI_CRASH_AT=output_written_before_rename",
                       "CRENI_CRASH_MARKER=" + (markers / "crashed").string()};
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  drop_into_folder(node, "1", make_images(staging, 1));
  ASSERT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json() << node.log();
  ASSERT_TRUE(std::filesystem::exists(markers / "crashed")) << "no worker reached the crash point";
  const auto text = http_get(node.http_port(), "/metrics").body;
  EXPECT_EQ(metric_value(text, "creni_worker_restarts_total"), 1) << text;
  EXPECT_TRUE(harness::wait_until(
      [&] { return metric_value(http_get(node.http_port(), "/metrics").body, "creni_workers_running") == 2; }, 20s))
      << "the replacement worker runs";
}

TEST(HttpApi, api_status_is_what_status_json_prints) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_EQ(send_with_storescu(node, make_images(staging, 2)).exit_code, 0);
  ASSERT_TRUE(node.wait_for_state("written", 2, 60s)) << node.status_json();

  const auto api = http_get(node.http_port(), "/api/status").json();
  const auto cli = nlohmann::json::parse(node.status_json(), nullptr, false);
  ASSERT_TRUE(cli.is_object()) << node.status_json();
  for (const char* part : {"counts", "oldest_waiting", "last_errors", "destinations"}) EXPECT_EQ(api[part], cli[part]) << part;
  // The CLI reads the snapshot the node publishes every 2 s; the API asks the node now: same node, same fields.
  ASSERT_TRUE(api["node"].is_object()) << api.dump();
  EXPECT_EQ(api["node"]["pid"], cli["node"]["pid"]);
  EXPECT_EQ(api["node"]["images_received"], 2);
  for (const auto& [key, value] : cli["node"].items()) EXPECT_TRUE(api["node"].contains(key)) << key;
}

TEST(HttpApi, jobs_are_listed_in_pages_and_filtered_by_gateway_and_state) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_EQ(send_with_storescu(node, make_images(staging, 3)).exit_code, 0);
  harness::TempDir folder_staging;
  drop_into_folder(node, "2", make_images(folder_staging, 2));
  ASSERT_TRUE(node.wait_for_state("written", 5, 60s)) << node.status_json();

  const auto first = http_get(node.http_port(), "/api/jobs?limit=2").json();
  ASSERT_EQ(first["jobs"].size(), 2U) << first.dump();
  const auto after = first["next_after"].get<std::int64_t>();
  EXPECT_EQ(after, first["jobs"][1]["id"].get<std::int64_t>());
  const auto second = http_get(node.http_port(), "/api/jobs?limit=2&after=" + std::to_string(after)).json();
  ASSERT_EQ(second["jobs"].size(), 2U);
  EXPECT_GT(second["jobs"][0]["id"].get<std::int64_t>(), after);
  const auto last = http_get(node.http_port(), "/api/jobs?limit=2&after=" + std::to_string(second["next_after"].get<std::int64_t>())).json();
  EXPECT_EQ(last["jobs"].size(), 1U);
  EXPECT_TRUE(last["next_after"].is_null());

  EXPECT_EQ(job_ids(node, "gateway=2").size(), 2U);
  EXPECT_EQ(job_ids(node, "gateway=1&state=written").size(), 3U);
  EXPECT_EQ(job_ids(node, "state=rejected").size(), 0U);
  for (const auto& job : http_get(node.http_port(), "/api/jobs?gateway=2").json()["jobs"]) {
    EXPECT_EQ(job["gateway"], "2");
    EXPECT_EQ(job["source"], "folder");
  }
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs?limit=0").status, 400);
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs?limit=5000").status, 400);
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs?state=lost").status, 400);
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs?gateway=../etc").status, 400);
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs?after=-1").status, 400);
}

TEST(HttpApi, a_job_shows_its_states_paths_and_forward_attempts) {
  harness::TempDir secrets;
  std::ofstream(secrets / "token") << kToken;
  NodeUnderTest node(with_token_and_dead_pacs(secrets / "token"));
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_EQ(send_with_storescu(node, make_images(staging, 1)).exit_code, 0);
  ASSERT_TRUE(node.wait_for_state("forward_failed", 1, 60s)) << node.status_json() << node.log();
  const auto ids = job_ids(node, "state=forward_failed");
  ASSERT_EQ(ids.size(), 1U);

  const auto shown = http_get(node.http_port(), "/api/jobs/" + std::to_string(ids[0]));
  ASSERT_EQ(shown.status, 200) << shown.body;
  const auto document = shown.json();
  EXPECT_EQ(document["job"]["state"], "forward_failed");
  EXPECT_EQ(document["job"]["source"], "scp");
  EXPECT_NE(document["job"]["output"].get<std::string>().find(node.output().string()), std::string::npos);
  EXPECT_FALSE(document["job"]["input"].get<std::string>().empty());
  ASSERT_EQ(document["forwards"].size(), 1U) << shown.body;
  EXPECT_EQ(document["forwards"][0]["destination"], "pacs");
  EXPECT_EQ(document["forwards"][0]["state"], "forward_failed");
  EXPECT_EQ(document["forwards"][0]["attempts"], 1);
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs/999999").status, 404);

  const auto text = http_get(node.http_port(), "/metrics").body;
  EXPECT_EQ(metric_value(text, "creni_forwards_total", {{"destination", "pacs"}, {"outcome", "forward_failed"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "creni_forwards", {{"destination", "pacs"}, {"state", "forward_failed"}}), 1) << text;
  EXPECT_EQ(metric_value(text, "creni_processing_seconds_count", {{"step", "forward"}}), 1) << text;
}

TEST(HttpApi, write_endpoints_are_disabled_without_a_token_file) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  for (const char* action : {"reprocess", "resend", "discard"}) {
    const auto answer = http_post(node.http_port(), std::string("/api/jobs/1/") + action, std::string("Bearer ") + kToken);
    EXPECT_EQ(answer.status, 403) << action << ": " << answer.body;
  }
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs/1/reprocess").status, 404);  // a write needs POST
}

TEST(HttpApi, write_endpoints_need_the_bearer_token_and_do_what_the_commands_do) {
  harness::TempDir secrets;
  std::ofstream(secrets / "token") << "  " << kToken << "\n";
  NodeUnderTest node(with_token_and_dead_pacs(secrets / "token"));
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir staging;
  ASSERT_EQ(send_with_storescu(node, make_images(staging, 1)).exit_code, 0);
  std::ofstream(staging / "broken.dcm") << "not DICOM at all";
  drop_into_folder(node, "2", {staging / "broken.dcm"});
  ASSERT_TRUE(node.wait_for_state("forward_failed", 1, 60s)) << node.status_json();
  ASSERT_TRUE(node.wait_for_state("rejected", 1, 30s)) << node.status_json();
  const auto failed = job_ids(node, "state=forward_failed").at(0);
  const auto rejected = job_ids(node, "state=rejected").at(0);
  const std::string bearer = std::string("Bearer ") + kToken;

  const std::string resend = "/api/jobs/" + std::to_string(failed) + "/resend";
  EXPECT_EQ(http_post(node.http_port(), resend).status, 401);
  EXPECT_EQ(http_post(node.http_port(), resend, "Bearer wrong-token").status, 401);
  EXPECT_EQ(http_post(node.http_port(), resend, std::string("Basic ") + kToken).status, 401);
  EXPECT_EQ(http_post(node.http_port(), "/api/jobs/999999/resend", bearer).status, 404);

  // resend: the forward is queued again and attempted a second time (and fails again against the dead PACS).
  const auto resent = http_post(node.http_port(), resend, bearer);
  ASSERT_EQ(resent.status, 200) << resent.body;
  EXPECT_EQ(resent.json()["changed"], 1);
  ASSERT_TRUE(harness::wait_until(
      [&] {
        const auto forwards = http_get(node.http_port(), "/api/jobs/" + std::to_string(failed)).json()["forwards"];
        return forwards.size() == 1 && forwards[0]["attempts"] == 2 && forwards[0]["state"] == "forward_failed";
      },
      30s))
      << http_get(node.http_port(), "/api/jobs/" + std::to_string(failed)).body;

  // discard: the rejected job stays rejected, now with reason "discarded".
  const auto discarded = http_post(node.http_port(), "/api/jobs/" + std::to_string(rejected) + "/discard", bearer);
  ASSERT_EQ(discarded.status, 200) << discarded.body;
  EXPECT_EQ(http_get(node.http_port(), "/api/jobs/" + std::to_string(rejected)).json()["job"]["reason"], "discarded");

  // reprocess: the job runs again (and is rejected again: its input is still not DICOM).
  const auto reprocessed = http_post(node.http_port(), "/api/jobs/" + std::to_string(rejected) + "/reprocess", bearer);
  ASSERT_EQ(reprocessed.status, 200) << reprocessed.body;
  EXPECT_EQ(reprocessed.json()["changed"], 1);
  ASSERT_TRUE(harness::wait_until(
      [&] {
        const auto job = http_get(node.http_port(), "/api/jobs/" + std::to_string(rejected)).json()["job"];
        return job["state"] == "rejected" && job["reason"] == "not_dicom";
      },
      30s))
      << http_get(node.http_port(), "/api/jobs/" + std::to_string(rejected)).body;
}

TEST(HttpApi, a_listen_address_reachable_from_other_machines_without_a_token_is_a_config_error) {
  NodeUnderTest node;
  const auto result = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string(),
                                            "--http-listen", "0.0.0.0:" + std::to_string(harness::free_port())},
                                           30s);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("http.listen"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("token_file"), std::string::npos) << result.err;
}

TEST(HttpApi, an_unreadable_token_file_is_a_config_error) {
  NodeUnderTest::Settings settings;
  settings.http = "token_file = \"/nonexistent/creni/token\"\n";
  NodeUnderTest node(settings);
  const auto result = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string()}, 30s);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("http.token_file"), std::string::npos) << result.err;
}

TEST(HttpApi, http_listen_on_the_command_line_overrides_the_config) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  const int port = harness::free_port();
  // A second node of its own (state and INPUT: the first one holds the locks of its folders) on another HTTP port.
  harness::TempDir other_state;
  harness::TempDir other_input;
  harness::ChildProcess second({CRENI_NODE_BINARY, "run", "--config", node.config_file().string(), "--state",
                                other_state.path().string(), "--input", other_input.path().string(), "--port",
                                std::to_string(harness::free_port()), "--http-listen",
                                "127.0.0.1:" + std::to_string(port)},
                               other_state.path());
  EXPECT_TRUE(harness::wait_until([&] { return http_get(port, "/healthz").status == 200; }, 20s)) << second.stderr_text();
}

TEST(HttpApi, a_busy_http_port_stops_the_start_with_exit_3) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  harness::TempDir other_state;
  harness::TempDir other_input;
  const auto result = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string(), "--state",
                                            other_state.path().string(), "--input", other_input.path().string(),
                                            "--port", std::to_string(harness::free_port())},
                                           30s);
  EXPECT_EQ(result.exit_code, 3) << result.err;
  EXPECT_NE(result.err.find("127.0.0.1:" + std::to_string(node.http_port())), std::string::npos) << result.err;
}

}  // namespace
}  // namespace creni::testing
