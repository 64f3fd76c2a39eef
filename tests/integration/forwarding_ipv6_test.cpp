// Forwarding to a PACS at an IPv6 address (issue 13, point 7), through the built binary. Debian's DCMTK 3.6.7
// cannot connect to one by itself (an address is an "Illegal service parameter", a name is looked up for IPv4
// only), so these tests fail without the node's own connect. The PACS is a second node listening on ::1 only:
// DCMTK's tools cannot listen there. Nothing here is skipped: a machine without ::1 fails these tests loudly.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "creni/common/owned_fd.hpp"
#include "http_client.hpp"
#include "node_under_test.hpp"
#include "pacs_peers.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// Whether a socket can be bound to [::1] (the loopback's IPv6 address is configured and usable).
bool ipv6_loopback_usable() {
  const fs::OwnedFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 loopback{};
  loopback.sin6_family = AF_INET6;
  loopback.sin6_addr = in6addr_loopback;
  return probe.valid() && ::bind(probe.get(), reinterpret_cast<const sockaddr*>(&loopback), sizeof loopback) == 0;
}

// A node that forwards gateway 1's results to `host`:`port`, where another node takes them as gateway 1's sender.
NodeUnderTest::Settings forwarding_to(const std::string& host, int port, const std::string& extra = {}) {
  NodeUnderTest::Settings settings;
  settings.gateway_1 = "destinations = [\"pacs\"]";
  settings.tables = "[[destination]]\nname = \"pacs\"\nhost = \"" + host + "\"\nport = " + std::to_string(port) +
                    "\nae_title = \"CRENI\"\ncalling_ae_title = \"GATEWAY_1\"\nconnect_timeout_s = 3\n"
                    "acse_timeout_s = 5\ndimse_timeout_s = 10\n" + extra;
  return settings;
}

// Every job the node has, in whatever state.
long jobs_of(const NodeUnderTest& node) {
  const std::string json = node.status_json();
  const std::regex row("\"state\":\"[a-z_]+\",\"count\":([0-9]+)");
  long total = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), row); it != std::sregex_iterator(); ++it) {
    total += std::stol((*it)[1]);
  }
  return total;
}

class ForwardingIpv6 : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ipv6_loopback_usable())
        << "::1 cannot be bound on this machine (see `ip -6 addr`): IPv6 destinations cannot be tested here";
    std::string error;
    ASSERT_TRUE(peers::make_test_pki(pki_dir_.path(), pki_, error)) << error;
    tls_port_ = harness::free_port();
    NodeUnderTest::Settings settings;
    settings.bind = "::1";
    settings.scp = "tls_port = " + std::to_string(tls_port_) + "\n";
    settings.tables = "[scp.tls]\nenabled = true\ncertificate = \"" + pki_.server_certificate.string() +
                      "\"\nprivate_key = \"" + pki_.server_key.string() + "\"\ntrusted_certificates = [\"" +
                      pki_.ca.string() + "\"]\nrequire_peer_certificate = true\n";
    pacs_ = std::make_unique<NodeUnderTest>(settings);
    ASSERT_TRUE(pacs_->start()) << pacs_->log();
  }

  // The node forwards one image and the PACS node has it, once.
  void expect_one_image_delivered(NodeUnderTest& node) {
    ASSERT_TRUE(node.start()) << node.log();
    drop_images(node.input() / "gateway_1", 1);
    ASSERT_TRUE(node.wait_for_state("done", 1, 60s)) << node.status_json() << node.log();
    ASSERT_TRUE(pacs_->wait_for_state("written", 1, 60s)) << pacs_->status_json() << pacs_->log();
    std::this_thread::sleep_for(3s);  // several forwarder poll cycles: a second attempt would show as a second job
    EXPECT_EQ(jobs_of(*pacs_), 1) << pacs_->status_json();
    EXPECT_NE(node.status_json().find("\"name\":\"pacs\",\"sent\":1,\"failed\":0,\"unknown\":0"), std::string::npos)
        << node.status_json();
  }

  harness::TempDir pki_dir_{"creni-pki"};
  peers::TestPki pki_;
  int tls_port_ = 0;
  std::unique_ptr<NodeUnderTest> pacs_;
};

TEST_F(ForwardingIpv6, a_result_reaches_a_pacs_at_an_ipv6_address_exactly_once) {
  NodeUnderTest node(forwarding_to("::1", pacs_->port()));
  expect_one_image_delivered(node);
}

TEST_F(ForwardingIpv6, a_result_reaches_a_pacs_over_tls_at_an_ipv6_address_exactly_once) {
  NodeUnderTest node(forwarding_to(
      "[::1]", tls_port_,
      "[destination.tls]\nenabled = true\ntrusted_certificates = [\"" + pki_.ca.string() + "\"]\ncertificate = \"" +
          pki_.client_certificate.string() + "\"\nprivate_key = \"" + pki_.client_key.string() + "\"\n"));
  expect_one_image_delivered(node);
}

TEST_F(ForwardingIpv6, a_host_name_with_only_an_ipv6_address_is_reached) {
  // The name lives in a hosts file of the node's own (a private mount namespace). For an IPv4-only lookup, as
  // DCMTK's, glibc turns a hosts-file "::1" into 127.0.0.1, where nothing listens on this port.
  harness::TempDir names;
  { std::ofstream(names / "hosts") << "::1 pacs6.test\n"; }
  NodeUnderTest::Settings settings = forwarding_to("pacs6.test", pacs_->port());
  settings.launcher = {harness::find_program("unshare"), "-m", "--propagation", "private"};
  if (::geteuid() != 0) settings.launcher.emplace_back("--map-root-user");  // mounting needs root, in a namespace
  settings.launcher.insert(settings.launcher.end(),
                           {"sh", "-c", "mount --bind '" + (names / "hosts").string() + "' /etc/hosts && exec \"$0\" \"$@\""});
  NodeUnderTest node(settings);
  expect_one_image_delivered(node);
}

TEST_F(ForwardingIpv6, the_echo_command_reaches_a_pacs_at_an_ipv6_address_plain_and_over_tls) {
  const std::string port = std::to_string(pacs_->port());
  for (const std::string host : {"::1", "[::1]"}) {
    const auto echo = harness::run_command(
        {CRENI_NODE_BINARY, "echo", host, port, "--aet", "GATEWAY_1", "--aec", "CRENI", "--timeout", "5"}, 30s);
    EXPECT_EQ(echo.exit_code, 0) << host << ": " << echo.out << echo.err;
    EXPECT_NE(echo.out.find("echo answered"), std::string::npos) << echo.out;
    EXPECT_NE(echo.out.find("CRENI@[::1]:" + port + ":"), std::string::npos) << "the address is not bracketed: " << echo.out;
  }
  const auto secure = harness::run_command(
      {CRENI_NODE_BINARY, "echo", "::1", std::to_string(tls_port_), "--aet", "GATEWAY_1", "--aec", "CRENI",
       "--timeout", "5", "--tls-ca", pki_.ca.string(), "--tls-cert", pki_.client_certificate.string(), "--tls-key",
       pki_.client_key.string()},
      30s);
  EXPECT_EQ(secure.exit_code, 0) << secure.out << secure.err << pacs_->log();
}

TEST(ForwardingDestinationHost, an_unresolvable_host_is_a_forward_failed_naming_it_in_the_journal) {
  NodeUnderTest node(forwarding_to("pacs.invalid", harness::free_port()));  // .invalid never resolves (RFC 6761)
  ASSERT_TRUE(node.start()) << node.log();
  drop_images(node.input() / "gateway_1", 1);
  ASSERT_TRUE(node.wait_for_state("forward_failed", 1, 60s)) << node.status_json() << node.log();
  const auto job = http_get(node.http_port(), "/api/jobs/1").json();
  ASSERT_TRUE(job.contains("forwards")) << job.dump();
  ASSERT_EQ(job["forwards"].size(), 1u) << job.dump();
  const auto& forward = job["forwards"][0];
  EXPECT_EQ(forward["state"], "forward_failed") << job.dump();
  EXPECT_EQ(forward["phase"], "connect") << job.dump();
  EXPECT_NE(forward["detail"].get<std::string>().find("cannot resolve host 'pacs.invalid'"), std::string::npos)
      << job.dump();
}

TEST(ForwardingDestinationHost, a_host_that_is_neither_an_address_nor_a_name_is_a_configuration_error) {
  for (const std::string host : {"pacs:104", "[::1", "pacs host", "http://pacs"}) {
    NodeUnderTest node(forwarding_to(host, 104));
    const auto run = harness::run_command({CRENI_NODE_BINARY, "run", "--config", node.config_file().string()}, 30s);
    EXPECT_EQ(run.exit_code, 2) << host << ": " << run.err;
    EXPECT_NE(run.err.find("destination[0].host"), std::string::npos) << host << ": " << run.err;
  }
}

}  // namespace
}  // namespace creni::testing
