// DICOM TLS at the SCP, against the built binary and DCMTK's own echoscu/storescu with certificates the test makes.
#include <gtest/gtest.h>

#include "dicom_factory.hpp"
#include "node_under_test.hpp"
#include "pacs_peers.hpp"

namespace creni::testing {
namespace {

using namespace std::chrono_literals;

class NetworkTls : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(peers::make_test_pki(pki_dir_.path(), pki_, error)) << error;
    tls_port_ = harness::free_port();
    NodeUnderTest::Settings settings;
    settings.scp = "tls_port = " + std::to_string(tls_port_) + "\n" + scp_extra();
    settings.tables = "[scp.tls]\nenabled = true\ncertificate = \"" + pki_.server_certificate.string() +
                      "\"\nprivate_key = \"" + pki_.server_key.string() + "\"\ntrusted_certificates = [\"" +
                      pki_.ca.string() + "\"]\nrequire_peer_certificate = true\n";
    node_ = std::make_unique<NodeUnderTest>(settings);
    ASSERT_TRUE(node_->start()) << node_->log();
  }

  // More [scp] keys for a fixture of its own.
  [[nodiscard]] virtual std::string scp_extra() const { return ""; }

  // echoscu or storescu over TLS with our client certificate, trusting `ca`.
  harness::CommandResult over_tls(const std::string& program, const std::filesystem::path& ca,
                                  std::vector<std::string> extra = {}, bool with_certificate = true) {
    std::vector<std::string> argv = {harness::find_program(program), "-aet", "GATEWAY_1", "-aec", "CRENI"};
    if (with_certificate) {
      argv.insert(argv.end(), {"+tls", pki_.client_key.string(), pki_.client_certificate.string()});
    } else {
      argv.push_back("+tla");
    }
    argv.insert(argv.end(), {"+cf", ca.string(), "127.0.0.1", std::to_string(tls_port_)});
    argv.insert(argv.end(), extra.begin(), extra.end());
    return harness::run_command(argv, 30s);
  }

  harness::TempDir pki_dir_{"creni-pki"};
  peers::TestPki pki_;
  int tls_port_ = 0;
  std::unique_ptr<NodeUnderTest> node_;
};

TEST_F(NetworkTls, a_client_with_a_trusted_certificate_is_served_and_its_images_processed) {
  const auto echo = over_tls("echoscu", pki_.ca);
  EXPECT_EQ(echo.exit_code, 0) << echo.out << echo.err << node_->log();
  harness::TempDir staging;
  ASSERT_TRUE(write_image(ImageSpec{}, staging / "one.dcm").ok());
  const auto store = over_tls("storescu", pki_.ca, {(staging / "one.dcm").string()});
  ASSERT_EQ(store.exit_code, 0) << store.out << store.err << node_->log();
  ASSERT_TRUE(node_->wait_for_state("written", 1, 30s)) << node_->status_json() << node_->log();
}

TEST_F(NetworkTls, a_client_without_a_certificate_fails_before_any_dimse) {
  const auto started = std::chrono::steady_clock::now();
  const auto echo = over_tls("echoscu", pki_.ca, {}, false);
  EXPECT_NE(echo.exit_code, 0) << echo.out << echo.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_NE(node_->log().find("TLS handshake with"), std::string::npos) << node_->log();
  EXPECT_EQ(node_->log().find("association from"), std::string::npos) << "DICOM began: " << node_->log();
}

TEST_F(NetworkTls, a_client_that_does_not_trust_our_certificate_never_gets_to_dicom) {
  const auto echo = over_tls("echoscu", pki_.other_ca);
  EXPECT_NE(echo.exit_code, 0) << echo.out << echo.err;
}

TEST_F(NetworkTls, tls_1_1_is_refused_while_tls_1_2_is_accepted) {
  // SECLEVEL=0 lets OpenSSL 3 actually offer TLS 1.1, so the refusal is the server's.
  const auto probe = [&](const std::string& version) {
    return harness::run_command({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(tls_port_), version,
                                 "-cipher", "DEFAULT@SECLEVEL=0", "-cert", pki_.client_certificate.string(), "-key",
                                 pki_.client_key.string(), "-CAfile", pki_.ca.string()},
                                15s);
  };
  const auto old_protocol = probe("-tls1_1");
  EXPECT_NE(old_protocol.exit_code, 0) << old_protocol.out << old_protocol.err;
  EXPECT_NE((old_protocol.out + old_protocol.err).find("protocol version"), std::string::npos)
      << old_protocol.out << old_protocol.err;
  const auto current = probe("-tls1_2");
  EXPECT_NE(current.out.find("Protocol  : TLSv1.2"), std::string::npos) << current.out << current.err;
}

TEST_F(NetworkTls, plain_dicom_on_the_tls_port_fails_fast_and_the_plain_port_still_works) {
  const auto started = std::chrono::steady_clock::now();
  const auto plain = harness::run_command({harness::find_program("echoscu"), "-to", "5", "-aet", "GATEWAY_1", "-aec",
                                           "CRENI", "127.0.0.1", std::to_string(tls_port_)},
                                          20s);
  EXPECT_NE(plain.exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  const auto echo = harness::run_command({harness::find_program("echoscu"), "-aet", "GATEWAY_1", "-aec", "CRENI",
                                          "127.0.0.1", std::to_string(node_->port())});
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

// Few TLS slots and a short handshake deadline, to show that idle or half-open handshakes cannot hold the port.
class NetworkTlsUnderSiege : public NetworkTls {
 protected:
  [[nodiscard]] std::string scp_extra() const override {
    return "max_associations = 4\nmax_associations_per_peer = 4\ntls_handshake_timeout_s = 2\n";
  }
};

TEST_F(NetworkTlsUnderSiege, idle_connections_that_never_handshake_cannot_hold_every_tls_slot) {
  std::vector<std::unique_ptr<harness::RawConnection>> idle;
  for (int i = 0; i < 12; ++i) {  // three times the slots, none of them ever saying a word
    idle.push_back(std::make_unique<harness::RawConnection>(tls_port_));
    ASSERT_TRUE(idle.back()->connected());
  }
  const auto started = std::chrono::steady_clock::now();
  const auto echo = over_tls("echoscu", pki_.ca);
  EXPECT_EQ(echo.exit_code, 0) << echo.out << echo.err << node_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
}

TEST_F(NetworkTlsUnderSiege, a_half_open_handshake_is_dropped_at_the_handshake_deadline) {
  harness::RawConnection half_open(tls_port_);
  ASSERT_TRUE(half_open.connected());
  half_open.send_text(std::string("\x16\x03\x01\x00\x80\x01", 6));  // a ClientHello record that never completes
  EXPECT_FALSE(half_open.closed_by_peer_within(1s));
  EXPECT_TRUE(half_open.closed_by_peer_within(4s)) << node_->log();
  EXPECT_NE(node_->log().find("timed out"), std::string::npos) << node_->log();
}

}  // namespace
}  // namespace creni::testing
