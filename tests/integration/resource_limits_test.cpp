// Process resources at their limit (../shared/RELIABILITY.md, D4): the node started with few file descriptors
// and flooded with connections refuses what it cannot hold, does not spin on its listening socket, and serves
// again once the flood is gone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "node_under_test.hpp"
#include "pacs_peers.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

// CPU seconds (user + system, all threads) the process has used so far.
double cpu_seconds_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  long ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stol(field);  // utime, stime
  }
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long occurrences(const std::string& text, const std::string& what) {
  long count = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++count;
  return count;
}

bool echo_answered(const NodeUnderTest& node) {
  return harness::run_command({harness::find_program("echoscu"), "-to", "5", "-aet", "GATEWAY_1", "-aec", "CRENI",
                               "127.0.0.1", std::to_string(node.port())},
                              20s)
             .exit_code == 0;
}

struct ProcessFootprint {
  long threads = 0;
  long descriptors = 0;
  long rss_kib = 0;
};

ProcessFootprint footprint_of(pid_t pid) {
  ProcessFootprint footprint;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    std::istringstream fields(line);
    std::string key;
    long value = 0;
    fields >> key >> value;
    if (key == "Threads:") footprint.threads = value;
    if (key == "VmRSS:") footprint.rss_kib = value;
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++footprint.descriptors;
  }
  return footprint;
}

// RELIABILITY L3 at CI size (the full 10,000 runs by hand): association after association leaves no thread, no
// descriptor and no memory behind (the DcmSCPPool thread leak class).
TEST(ResourceLimits, two_hundred_sequential_associations_leave_threads_descriptors_and_memory_flat) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start()) << node.log();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(echo_answered(node));  // warm-up: thread pool, allocator, caches
  const ProcessFootprint before = footprint_of(node.pid());
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(echo_answered(node)) << "association " << i << node.log();
  const ProcessFootprint after = footprint_of(node.pid());
  EXPECT_LE(after.threads, before.threads + 1) << before.threads << " -> " << after.threads;
  EXPECT_LE(after.descriptors, before.descriptors + 2) << before.descriptors << " -> " << after.descriptors;
  EXPECT_LE(after.rss_kib, before.rss_kib + before.rss_kib / 10 + 1024) << before.rss_kib << " -> " << after.rss_kib;
}

TEST(ResourceLimits, out_of_descriptors_the_scp_refuses_without_spinning_and_recovers) {
  NodeUnderTest node;
  ASSERT_TRUE(node.start_under({harness::find_program("prlimit"), "--nofile=64:64"})) << node.log();
  ASSERT_TRUE(echo_answered(node)) << node.log();

  // More silent connections than the node has descriptors left.
  std::vector<std::unique_ptr<harness::RawConnection>> flood;
  for (int i = 0; i < 100; ++i) flood.push_back(std::make_unique<harness::RawConnection>(node.port()));
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("scp accept failed") != std::string::npos; }, 10s))
      << node.log();
  const double before = cpu_seconds_of(node.pid());
  std::this_thread::sleep_for(2s);
  EXPECT_LT(cpu_seconds_of(node.pid()) - before, 0.3) << "the node spins while out of descriptors";
  EXPECT_EQ(occurrences(node.log(), "scp accept failed"), 1) << "logged once per interval: " << node.log();

  flood.clear();
  EXPECT_TRUE(harness::wait_until([&] { return echo_answered(node); }, 30s)) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
}

TEST(ResourceLimits, out_of_descriptors_the_tls_port_pauses_without_spinning_and_recovers) {
  harness::TempDir pki_dir("creni-pki");
  peers::TestPki pki;
  std::string error;
  ASSERT_TRUE(peers::make_test_pki(pki_dir.path(), pki, error)) << error;
  const int tls_port = harness::free_port();
  NodeUnderTest::Settings settings;
  settings.scp = "tls_port = " + std::to_string(tls_port) + "\n";
  settings.tables = "[scp.tls]\nenabled = true\ncertificate = \"" + pki.server_certificate.string() +
                    "\"\nprivate_key = \"" + pki.server_key.string() + "\"\ntrusted_certificates = [\"" +
                    pki.ca.string() + "\"]\nrequire_peer_certificate = true\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start_under({harness::find_program("prlimit"), "--nofile=64:64"})) << node.log();
  const auto tls_echo = [&] {
    return harness::run_command({harness::find_program("echoscu"), "-to", "5", "-aet", "GATEWAY_1", "-aec", "CRENI",
                                 "+tls", pki.client_key.string(), pki.client_certificate.string(), "+cf",
                                 pki.ca.string(), "127.0.0.1", std::to_string(tls_port)},
                                20s)
               .exit_code == 0;
  };
  ASSERT_TRUE(tls_echo()) << node.log();

  // Silent connections to the plain port use up the descriptors (each waits for its A-ASSOCIATE-RQ); the TLS port's
  // own connections are few (idle handshakes give way), so they alone would not.
  std::vector<std::unique_ptr<harness::RawConnection>> flood;
  for (int i = 0; i < 100; ++i) flood.push_back(std::make_unique<harness::RawConnection>(node.port()));
  for (int i = 0; i < 20; ++i) flood.push_back(std::make_unique<harness::RawConnection>(tls_port));
  ASSERT_TRUE(harness::wait_until([&] { return node.log().find("scp-tls accept failed") != std::string::npos; }, 10s))
      << node.log();
  const double before = cpu_seconds_of(node.pid());
  std::this_thread::sleep_for(2s);
  EXPECT_LT(cpu_seconds_of(node.pid()) - before, 0.3) << "the TLS accept loop spins while out of descriptors";

  flood.clear();
  EXPECT_TRUE(harness::wait_until(tls_echo, 30s)) << node.log();
  EXPECT_EQ(node.stop(), 0) << node.log();
}

}  // namespace
}  // namespace creni::testing
