// Slow and hostile peers at the network door (issue 13): total deadlines, a minimum transfer rate, per-peer caps,
// a data set size cap, IPv6 and bind errors, and logs that stay valid JSON whatever a peer sends. Raw sockets play
// the hostile peers (tests/integration/raw_ul_peer.hpp); DCMTK's storescu plays the legitimate sender.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "raw_ul_peer.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr std::uint8_t kAssociateAc = 0x02;
constexpr std::uint8_t kAssociateRj = 0x03;
constexpr const char* kCtImageStorage = "1.2.840.10008.5.1.4.1.1.2";

harness::CommandResult store(const NodeUnderTest& node, const std::filesystem::path& file,
                             const std::string& host = "127.0.0.1") {
  return harness::run_command({harness::find_program("storescu"), "-v", "-aet", "GATEWAY_1", "-aec", "CRENI", host,
                               std::to_string(node.port()), file.string()},
                              60s);
}

// Sends one byte to each peer every `every` until stopped: each byte would reset a per-read timeout.
class Trickle {
 public:
  Trickle(std::vector<RawUlPeer*> peers, std::chrono::milliseconds every)
      : thread_([this, peers, every] {
          // The header of a P-DATA-TF PDU announcing 64 KiB, then its bytes one at a time.
          const std::string pdu = RawUlPeer::p_data(1, 0x03, std::string(65530, '\0'));
          for (std::size_t sent = 0; !stop_ && sent < pdu.size(); ++sent) {
            for (auto* peer : peers) (void)peer->send(pdu.substr(sent, 1));
            for (auto waited = 0ms; !stop_ && waited < every; waited += 50ms) std::this_thread::sleep_for(50ms);
          }
        }) {}
  ~Trickle() {
    stop_ = true;
    thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class HostilePeers : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(write_image(ImageSpec{}, small_).ok()); }

  harness::TempDir scratch_;
  std::filesystem::path small_ = scratch_ / "small.dcm";
};

TEST_F(HostilePeers, with_every_slot_trickled_a_legitimate_storescu_is_stored_within_5_s_and_the_tricklers_end) {
  NodeUnderTest::Settings settings;
  settings.scp = "max_associations = 4\nmax_associations_per_peer = 2\ninactivity_timeout_s = 4\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();

  // max_associations tricklers from one other host: only its share is admitted, the rest refused at once.
  std::vector<std::unique_ptr<RawUlPeer>> tricklers;
  std::vector<RawUlPeer*> admitted;
  int refused = 0;
  for (int i = 0; i < 4; ++i) {
    tricklers.push_back(std::make_unique<RawUlPeer>(node.port(), "127.0.0.2"));
    ASSERT_TRUE(tricklers.back()->connected());
    const int answer = tricklers.back()->associate("GATEWAY_2");
    if (answer == kAssociateAc) admitted.push_back(tricklers.back().get());
    if (answer == kAssociateRj) ++refused;
  }
  EXPECT_EQ(admitted.size(), 2u) << node.log();
  EXPECT_EQ(refused, 2) << node.log();
  const Trickle trickle(admitted, 300ms);

  const auto began = Clock::now();
  const auto stored = store(node, small_);
  EXPECT_EQ(stored.exit_code, 0) << stored.out << stored.err << node.log();
  EXPECT_LT(Clock::now() - began, 5s);

  // However many bytes trickle in, no complete message for inactivity_timeout_s ends the association.
  for (auto* peer : admitted) EXPECT_TRUE(peer->closed_by_peer_within(10s)) << node.log();
  EXPECT_NE(node.log().find("aborting association from 127.0.0.2 calling=GATEWAY_2: no complete DIMSE message"),
            std::string::npos)
      << node.log();
}

TEST_F(HostilePeers, a_data_set_below_the_minimum_rate_is_aborted_with_a_log_line_naming_the_peer) {
  NodeUnderTest::Settings settings;
  settings.scp = "min_transfer_rate_kib_s = 4\nmin_transfer_rate_grace_s = 2\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();

  RawUlPeer slow(node.port());
  ASSERT_EQ(slow.associate("GATEWAY_1"), kAssociateAc) << node.log();
  ASSERT_TRUE(slow.send(RawUlPeer::p_data(1, 0x03, RawUlPeer::c_store_rq(kCtImageStorage, "1.2.3.4.5"))));
  // The data set's PDU announces 60 KB, then comes at 50 bytes a second.
  const std::string pdu = RawUlPeer::p_data(1, 0x02, std::string(60000, '\0'));
  const auto began = Clock::now();
  bool closed = false;
  for (std::size_t sent = 0; sent < pdu.size() && Clock::now() - began < 10s; sent += 10) {
    if (!slow.send(pdu.substr(sent, 10)) || slow.closed_by_peer_within(200ms)) {
      closed = true;
      break;
    }
  }
  EXPECT_TRUE(closed) << node.log();
  EXPECT_LT(Clock::now() - began, 6s);
  EXPECT_TRUE(harness::wait_until(
      [&] {
        return node.log().find("aborting association from 127.0.0.1 calling=GATEWAY_1: data set arriving at") !=
               std::string::npos;
      },
      5s))
      << node.log();
  EXPECT_TRUE(harness::wait_until([&] { return harness::spooled_files_below(node.state() / "spool").empty(); }, 5s));
  EXPECT_EQ(store(node, small_).exit_code, 0) << node.log();
}

TEST_F(HostilePeers, a_data_set_over_max_dataset_mb_is_refused_with_0xa700_and_nothing_is_kept) {
  NodeUnderTest::Settings settings;
  settings.scp = "max_dataset_mb = 1\n";
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();
  ImageSpec big;  // 2 MiB of pixels
  big.rows = 1024;
  big.columns = 1024;
  ASSERT_TRUE(write_image(big, scratch_ / "big.dcm").ok());

  const auto refused = store(node, scratch_ / "big.dcm");
  EXPECT_NE((refused.out + refused.err).find("Refused: OutOfResources"), std::string::npos)
      << refused.out << refused.err << node.log();
  EXPECT_NE(node.log().find("status=0xA700 (data set larger than scp.max_dataset_mb)"), std::string::npos)
      << node.log();
  EXPECT_TRUE(harness::spooled_files_below(node.state() / "spool").empty()) << "the refused data set stayed in the spool";
  EXPECT_EQ(node.count_in_state("received") + node.count_in_state("processing") + node.count_in_state("written"), 0);

  ASSERT_EQ(store(node, small_).exit_code, 0) << node.log();
  EXPECT_TRUE(node.wait_for_state("written", 1, 60s)) << node.status_json();
}

TEST_F(HostilePeers, the_scp_listens_on_ipv6_and_an_unusable_bind_address_is_a_configuration_error) {
  NodeUnderTest::Settings ipv6;
  ipv6.bind = "::1";
  NodeUnderTest node(ipv6);
  ASSERT_TRUE(node.start()) << node.log();
  // Debian's DCMTK 3.6.7 tools cannot connect over IPv6 ("Illegal service parameter"): a raw peer associates.
  RawUlPeer peer(node.port(), "::1", "::1");
  ASSERT_TRUE(peer.connected());
  EXPECT_EQ(peer.associate("GATEWAY_1"), kAssociateAc) << node.log();
  EXPECT_EQ(node.stop(), 0);

  for (const std::string bind : {"no-such-host.invalid", "192.0.2.1"}) {  // unresolvable; not this host's
    NodeUnderTest::Settings bad;
    bad.bind = bind;
    NodeUnderTest refused(bad);
    const auto run = harness::run_command(
        {CRENI_NODE_BINARY, "run", "--config", refused.config_file().string()}, 30s);
    EXPECT_EQ(run.exit_code, 2) << bind << ": " << run.err;
    EXPECT_NE(run.err.find("scp.bind"), std::string::npos) << run.err;
  }
}

TEST_F(HostilePeers, json_logs_stay_valid_json_and_floods_of_bad_connections_are_summarised) {
  NodeUnderTest::Settings settings;
  settings.arguments = {"--log-format", "json"};
  NodeUnderTest node(settings);
  ASSERT_TRUE(node.start()) << node.log();

  for (int i = 0; i < 30; ++i) {
    RawUlPeer hostile(node.port());
    ASSERT_TRUE(hostile.connected());
    // An AE title of bytes that are not UTF-8 (nor ASCII), and control characters.
    (void)hostile.associate(std::string("\xff\xfe\x80\x01\"\\\xc3(", 9) + std::to_string(i));
  }
  for (int i = 0; i < 30; ++i) {
    RawUlPeer http(node.port());
    (void)http.send("GET / HTTP/1.1\r\n\r\n");
    (void)http.closed_by_peer_within(2s);
  }
  EXPECT_TRUE(harness::wait_until([&] { return node.log().find("suppressed ") != std::string::npos; }, 20s))
      << node.log();
  ASSERT_EQ(node.stop(), 0);

  const auto log_file = scratch_ / "node.log";
  std::ofstream(log_file, std::ios::binary) << node.log();
  const auto parsed = harness::run_command(
      {harness::find_program("python3"), "-c",
       "import json,sys\n"
       "lines=[l for l in open(sys.argv[1],'rb').read().split(b'\\n') if l.strip()]\n"
       "[json.loads(l.decode('utf-8')) for l in lines]\n"
       "print(len(lines))",
       log_file.string()},
      30s);
  EXPECT_EQ(parsed.exit_code, 0) << parsed.err;
  EXPECT_GT(std::atol(parsed.out.c_str()), 10) << parsed.out;
  EXPECT_NE(node.log().find("similar message(s)"), std::string::npos);
}

}  // namespace
}  // namespace creni::testing
