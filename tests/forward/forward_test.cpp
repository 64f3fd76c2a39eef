#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>

#include <csignal>
#include <atomic>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <stdexcept>

#include "creni/common/owned_fd.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/forward/dcmtk_pacs_sender.hpp"
#include "creni/forward/forwarder.hpp"
#include "creni/forward/store_status.hpp"
#include "creni/journal/journal.hpp"
#include "dicom_factory.hpp"
#include "harness.hpp"
#include "pacs_peers.hpp"

namespace creni::forward {
namespace {

using namespace std::chrono_literals;
using harness::TempDir;
using harness::wait_until;
using journal::ForwardState;
using testing::peers::Orthanc;
using testing::peers::StoreScp;

constexpr const char* kImplicitLittleEndian = "1.2.840.10008.1.2";
constexpr const char* kJpegLossless = "1.2.840.10008.1.2.4.70";

// The node's process-wide set-up, as main() does it: DCMTK's dictionary and decoders, and a peer closing a
// socket must not kill the process.
class NodeProcessEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::signal(SIGPIPE, SIG_IGN);
    runtime_ = std::make_unique<dicom::DcmtkRuntime>();
  }
  void TearDown() override { runtime_.reset(); }

 private:
  std::unique_ptr<dicom::DcmtkRuntime> runtime_;
};
[[maybe_unused]] ::testing::Environment* const kNodeProcess =
    ::testing::AddGlobalTestEnvironment(new NodeProcessEnvironment);

config::DestinationConfig destination_at(int port, const std::string& name = "pacs") {
  config::DestinationConfig destination;
  destination.name = name;
  destination.host = "127.0.0.1";
  destination.port = static_cast<std::uint16_t>(port);
  destination.ae_title = "PACS";
  destination.calling_ae_title = "CRENI";
  destination.connect_timeout_s = 5;
  destination.acse_timeout_s = 5;
  destination.dimse_timeout_s = 5;
  destination.max_attempts = 1;
  destination.retry_backoff_s = 1;
  return destination;
}

struct ReceivedInstance {
  std::string sop_instance_uid;
  std::string transfer_syntax_uid;
};

ReceivedInstance read_received(const std::filesystem::path& file) {
  DcmFileFormat format;
  if (format.loadFile(file.c_str()).bad()) return {};
  OFString sop;
  OFString syntax;
  format.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, sop);
  format.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
  return {sop.c_str(), syntax.c_str()};
}

// ---- classification and policy ----------------------------------------------------------------------------------

TEST(StoreStatus, counts_success_warnings_and_duplicates_as_stored) {
  EXPECT_EQ(classify_store_status(0x0000), StoreStatusClass::success);
  for (const std::uint16_t warning : {0x0001, 0x0107, 0x0116, 0xB000, 0xB006, 0xB007, 0xBFFF}) {
    EXPECT_EQ(classify_store_status(warning), StoreStatusClass::warning) << std::hex << warning;
  }
  EXPECT_EQ(classify_store_status(0x0111), StoreStatusClass::duplicate);
}

TEST(StoreStatus, counts_refusals_errors_and_unknown_codes_as_failures) {
  for (const std::uint16_t failure : {0xA700, 0xA7FF, 0xA900, 0xA9FF, 0xC000, 0xCFFF, 0x0110, 0x0122, 0x0124, 0xFE00}) {
    EXPECT_EQ(classify_store_status(failure), StoreStatusClass::failure) << std::hex << failure;
  }
}

TEST(StoreStatus, names_the_status_in_hex_with_its_meaning) {
  EXPECT_EQ(describe_store_status(0xA700), "0xA700 refused: out of resources");
  EXPECT_EQ(describe_store_status(0xA7FF), "0xA7FF refused: out of resources");
  EXPECT_EQ(describe_store_status(0x0111), "0x0111 duplicate SOP instance");
  EXPECT_EQ(describe_store_status(0xC123), "0xC123 error: cannot understand");
}

TEST(RetryPolicy, doubles_the_wait_after_each_failed_attempt_until_attempts_run_out) {
  const RetryPolicy policy{4, 10};
  EXPECT_EQ(policy.delay_after(1, 0.0), std::chrono::milliseconds(10'000));
  EXPECT_EQ(policy.delay_after(2, 0.0), std::chrono::milliseconds(20'000));
  EXPECT_EQ(policy.delay_after(3, 0.0), std::chrono::milliseconds(40'000));
  EXPECT_EQ(policy.delay_after(4, 0.0), std::nullopt);
}

TEST(RetryPolicy, jitters_by_at_most_twenty_percent) {
  const RetryPolicy policy{3, 10};
  EXPECT_EQ(policy.delay_after(1, 1.0), std::chrono::milliseconds(12'000));
  EXPECT_EQ(policy.delay_after(1, -1.0), std::chrono::milliseconds(8'000));
  EXPECT_EQ(policy.delay_after(1, 7.0), std::chrono::milliseconds(12'000));
}

TEST(RetryPolicy, one_attempt_means_never_again) { EXPECT_EQ((RetryPolicy{1, 30}.delay_after(1, 0.0)), std::nullopt); }

TEST(RetryPolicy, never_waits_longer_than_a_day) {
  EXPECT_EQ((RetryPolicy{100, 3600}.delay_after(60, 0.0)), std::chrono::milliseconds(24LL * 3600 * 1000));
}

TEST(ForwardOutcome, records_sent_as_done_failed_as_forward_failed_and_unknown_as_forward_unknown) {
  EXPECT_EQ(to_forward_outcome({SendOutcome::sent, SendPhase::response, "", 0}).state, ForwardState::done);
  EXPECT_EQ(to_forward_outcome({SendOutcome::failed, SendPhase::connect, "", -1}).state, ForwardState::forward_failed);
  const auto unknown = to_forward_outcome({SendOutcome::unknown, SendPhase::response, "no answer", -1});
  EXPECT_EQ(unknown.state, ForwardState::forward_unknown);
  EXPECT_EQ(unknown.phase, "response");
  EXPECT_EQ(unknown.detail, "no answer");
  EXPECT_EQ(unknown.dimse_status, -1);
}

// ---- DcmtkPacsSender against real peers -------------------------------------------------------------------------

class DcmtkPacsSenderTest : public ::testing::Test {
 protected:
  std::filesystem::path result(const std::string& name, testing::ImageSpec spec = {}) {
    if (spec.sop_instance_uid.empty()) spec.sop_instance_uid = testing::fresh_uid();
    const auto file = dir_ / (name + ".dcm");
    const Status written = testing::write_image(spec, file);
    EXPECT_TRUE(written.ok()) << written.error().describe();
    sop_of_[file] = spec.sop_instance_uid;
    return file;
  }

  static SendResult send(const config::DestinationConfig& destination, const std::filesystem::path& file) {
    DcmtkPacsSender sender(destination, "CRENI");
    return sender.send_once(file);
  }

  TempDir dir_{"creni-forward"};
  std::map<std::filesystem::path, std::string> sop_of_;
};

TEST_F(DcmtkPacsSenderTest, stores_a_result_exactly_once_into_storescp) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  const auto file = result("ct");

  const SendResult sent = send(destination_at(pacs.port()), file);

  EXPECT_EQ(sent.outcome, SendOutcome::sent) << sent.detail;
  EXPECT_EQ(sent.phase, SendPhase::response);
  EXPECT_EQ(sent.dimse_status, 0x0000);
  ASSERT_EQ(pacs.received_files().size(), 1u) << pacs.log();
  EXPECT_EQ(read_received(pacs.received_files().front()).sop_instance_uid, sop_of_[file]);
  EXPECT_EQ(pacs.store_requests_seen(), 1);
}

TEST_F(DcmtkPacsSenderTest, results_of_one_study_share_an_association_when_configured) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec study_a;
  study_a.study_instance_uid = testing::fresh_uid();
  testing::ImageSpec study_b;
  study_b.study_instance_uid = testing::fresh_uid();
  const std::vector<std::filesystem::path> files = {result("a1", study_a), result("a2", study_a), result("a3", study_a),
                                                    result("b1", study_b)};
  auto destination = destination_at(pacs.port());
  destination.share_association = config::AssociationSharing::study;
  DcmtkPacsSender sender(destination, "CRENI");
  for (const auto& file : files) {
    const SendResult sent = sender.send_once(file);
    EXPECT_EQ(sent.outcome, SendOutcome::sent) << sent.detail;
    EXPECT_EQ(sent.dimse_status, 0x0000);
  }
  sender.release_association();
  ASSERT_TRUE(wait_until([&] { return pacs.received_files().size() == 4; }, 10s)) << pacs.log();
  // Study A's three results went over one association, study B's over a second; both were released in order.
  EXPECT_EQ(pacs.associations_acknowledged(), 2) << pacs.log();
  EXPECT_TRUE(wait_until([&] { return pacs.releases_received() >= 2; }, 5s)) << pacs.log();
  EXPECT_EQ(pacs.releases_received(), 2);
  EXPECT_EQ(pacs.store_requests_seen(), 4);
}

TEST_F(DcmtkPacsSenderTest, each_result_has_its_own_association_by_default) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec study;
  study.study_instance_uid = testing::fresh_uid();
  DcmtkPacsSender sender(destination_at(pacs.port()), "CRENI");
  for (const auto& file : {result("s1", study), result("s2", study)}) {
    EXPECT_EQ(sender.send_once(file).outcome, SendOutcome::sent);
  }
  ASSERT_TRUE(wait_until([&] { return pacs.received_files().size() == 2; }, 10s)) << pacs.log();
  EXPECT_EQ(pacs.associations_acknowledged(), 2) << pacs.log();
}

TEST_F(DcmtkPacsSenderTest, verifies_the_pacs_with_an_echo) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  DcmtkPacsSender sender(destination_at(pacs.port()), "CRENI");

  const SendResult echoed = sender.echo();

  EXPECT_EQ(echoed.outcome, SendOutcome::sent) << echoed.detail;
  EXPECT_EQ(echoed.dimse_status, 0x0000);
}

TEST_F(DcmtkPacsSenderTest, fails_in_connect_when_nothing_listens) {
  const SendResult result = send(destination_at(harness::free_port()), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
  EXPECT_NE(result.detail.find("refused"), std::string::npos) << result.detail;
  EXPECT_EQ(result.dimse_status, -1);
}

TEST_F(DcmtkPacsSenderTest, connects_to_an_ipv6_address_itself_instead_of_handing_dcmtk_an_address_it_cannot_parse) {
  // DCMTK 3.6.7 alone answers "Illegal service parameter: ::1:<port>" without trying; ours reaches [::1] and is
  // refused there, as an IPv4 address is (the whole delivery over ::1 is in ForwardingIpv6).
  for (const std::string host : {"::1", "[::1]"}) {
    config::DestinationConfig destination = destination_at(harness::free_port());
    destination.host = host;
    const SendResult result = send(destination, this->result("ct-" + std::to_string(host.size())));
    EXPECT_EQ(result.outcome, SendOutcome::failed) << host;
    EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
    EXPECT_NE(result.detail.find("[::1]:" + std::to_string(destination.port) + ": Connection refused"),
              std::string::npos)
        << result.detail;
  }
}

TEST_F(DcmtkPacsSenderTest, gives_up_connecting_after_connect_timeout_s_when_the_pacs_never_answers) {
  // A listener on [::1] whose accept queue is full drops further SYNs: a PACS that never answers the connect.
  const fs::OwnedFd listener(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  socklen_t length = sizeof address;
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0) << "no ::1 here";
  ASSERT_EQ(::listen(listener.get(), 0), 0);
  ASSERT_EQ(::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
  const fs::OwnedFd queued(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(queued.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);

  config::DestinationConfig destination = destination_at(ntohs(address.sin6_port));
  destination.host = "::1";
  destination.connect_timeout_s = 2;
  const auto started = std::chrono::steady_clock::now();
  const SendResult result = send(destination, this->result("ct"));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
  EXPECT_NE(result.detail.find("no connection within 2 s"), std::string::npos) << result.detail;
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 8s);
}

TEST_F(DcmtkPacsSenderTest, fails_in_connect_naming_a_host_that_does_not_resolve) {
  config::DestinationConfig destination = destination_at(harness::free_port());
  destination.host = "pacs.invalid";  // never resolves (RFC 6761)
  const SendResult result = send(destination, this->result("ct"));
  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
  EXPECT_NE(result.detail.find("cannot resolve host 'pacs.invalid'"), std::string::npos) << result.detail;
}

TEST_F(DcmtkPacsSenderTest, fails_in_associate_with_the_reason_when_the_pacs_refuses_the_association) {
  StoreScp pacs(dir_.path(), harness::free_port(), {"--refuse"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();

  const SendResult result = send(destination_at(pacs.port()), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::associate);
  EXPECT_NE(result.detail.find("association rejected"), std::string::npos) << result.detail;
  EXPECT_NE(result.detail.find("Rejected Permanent"), std::string::npos) << result.detail;
  EXPECT_TRUE(pacs.received_files().empty());
}

TEST_F(DcmtkPacsSenderTest, fails_in_negotiate_when_the_pacs_accepts_none_of_our_transfer_syntaxes) {
  // A PACS that takes CT only as JPEG Lossless, while the result is Explicit VR Little Endian.
  const auto profile = dir_ / "jpeg-only.cfg";
  std::ofstream(profile) << "[[TransferSyntaxes]]\n[JpegOnly]\n"
                            "TransferSyntax1 = JPEGLossless:Non-hierarchical-1stOrderPrediction\n"
                            "[[PresentationContexts]]\n[CtAsJpeg]\nPresentationContext1 = CTImageStorage\\JpegOnly\n"
                            "[[Profiles]]\n[JpegCt]\nPresentationContexts = CtAsJpeg\n";
  StoreScp pacs(dir_.path(), harness::free_port(), {"-xf", profile.string(), "JpegCt"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();

  const SendResult result = send(destination_at(pacs.port()), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::negotiate);
  EXPECT_NE(result.detail.find("transfer syntax not supported"), std::string::npos) << result.detail;
  EXPECT_EQ(pacs.store_requests_seen(), 0) << pacs.log();
}

TEST_F(DcmtkPacsSenderTest, fails_in_negotiate_when_the_pacs_does_not_know_the_sop_class) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec spec;
  spec.sop_class_uid = "1.2.826.0.1.3680043.9.7433.99.1";  // a private storage class storescp has never heard of

  const SendResult result = send(destination_at(pacs.port()), this->result("private", spec));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::negotiate);
  EXPECT_NE(result.detail.find("abstract syntax not supported"), std::string::npos) << result.detail;
}

TEST_F(DcmtkPacsSenderTest, reports_unknown_when_the_response_does_not_come_within_the_dimse_timeout) {
  // storescp sleeps 3 s at each step of receiving the data set; we wait 2 s for the answer.
  StoreScp pacs(dir_.path(), harness::free_port(), {"--sleep-during", "3"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  auto destination = destination_at(pacs.port());
  destination.dimse_timeout_s = 2;

  const SendResult result = send(destination, this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::unknown);
  EXPECT_EQ(result.phase, SendPhase::response);
  EXPECT_NE(result.detail.find("no C-STORE response within 2 s"), std::string::npos) << result.detail;
  EXPECT_EQ(result.dimse_status, -1);
  EXPECT_EQ(pacs.store_requests_seen(), 1) << pacs.log();
}

TEST_F(DcmtkPacsSenderTest, reports_unknown_when_the_pacs_aborts_after_receiving_the_data_set) {
  StoreScp pacs(dir_.path(), harness::free_port(), {"--abort-after"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();

  const SendResult result = send(destination_at(pacs.port()), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::unknown);
  EXPECT_EQ(result.phase, SendPhase::response);
  EXPECT_NE(result.detail.find("aborted"), std::string::npos) << result.detail;
  EXPECT_EQ(pacs.store_requests_seen(), 1) << pacs.log();
}

TEST_F(DcmtkPacsSenderTest, counts_a_response_followed_by_a_hanging_release_as_sent) {
  // DCMTK 3.6.7's storescp --sleep-after sleeps after sending its response: the image is confirmed, only the
  // release times out. The outcome stays `sent`; the release problem is noted.
  StoreScp pacs(dir_.path(), harness::free_port(), {"--sleep-after", "4"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  auto destination = destination_at(pacs.port());
  destination.acse_timeout_s = 2;
  destination.dimse_timeout_s = 2;

  const SendResult result = send(destination, this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::sent) << result.detail;
  EXPECT_EQ(result.phase, SendPhase::release);
  EXPECT_EQ(result.dimse_status, 0x0000);
  EXPECT_NE(result.detail.find("release failed"), std::string::npos) << result.detail;
  EXPECT_EQ(pacs.received_files().size(), 1u);
}

TEST_F(DcmtkPacsSenderTest, sends_a_compressed_result_in_its_own_transfer_syntax_when_the_pacs_accepts_it) {
  StoreScp pacs(dir_.path(), harness::free_port(), {"+xa"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec spec;
  spec.transfer_syntax = kJpegLossless;

  const SendResult result = send(destination_at(pacs.port()), this->result("jpeg", spec));

  EXPECT_EQ(result.outcome, SendOutcome::sent) << result.detail;
  ASSERT_EQ(pacs.received_files().size(), 1u);
  EXPECT_EQ(read_received(pacs.received_files().front()).transfer_syntax_uid, kJpegLossless);
}

TEST_F(DcmtkPacsSenderTest, re_encodes_an_uncompressed_result_when_the_pacs_takes_only_implicit_little_endian) {
  StoreScp pacs(dir_.path(), harness::free_port(), {"+xi"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();

  const SendResult result = send(destination_at(pacs.port()), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::sent) << result.detail;
  ASSERT_EQ(pacs.received_files().size(), 1u);
  EXPECT_EQ(read_received(pacs.received_files().front()).transfer_syntax_uid, kImplicitLittleEndian);
}

TEST_F(DcmtkPacsSenderTest, never_decodes_a_compressed_result_for_a_pacs_that_takes_only_uncompressed_data) {
  StoreScp pacs(dir_.path(), harness::free_port());  // storescp's default: uncompressed transfer syntaxes only
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec spec;
  spec.transfer_syntax = kJpegLossless;

  const SendResult result = send(destination_at(pacs.port()), this->result("jpeg", spec));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::negotiate);
  EXPECT_NE(result.detail.find("no decoding"), std::string::npos) << result.detail;
  EXPECT_EQ(pacs.store_requests_seen(), 0);
}

TEST_F(DcmtkPacsSenderTest, does_not_stall_on_delayed_acks_of_a_pacs_that_leaves_nagle_on) {
  // A default storescp writes each response PDU in two parts with Nagle on: without our quick ACKs every
  // C-STORE waited 40 ms for the delayed ACK (44 ms per send measured here; under 1 ms with them).
  StoreScp pacs(dir_.path(), harness::free_port(), {"--ignore"});
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  const auto file = result("ct");
  DcmtkPacsSender sender(destination_at(pacs.port()), "CRENI");
  constexpr int kSends = 20;

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kSends; ++i) ASSERT_EQ(sender.send_once(file).outcome, SendOutcome::sent);
  const auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_LT(elapsed / kSends, 20ms) << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                                    << " ms for " << kSends << " sends";
}

TEST_F(DcmtkPacsSenderTest, fails_in_prepare_without_connecting_when_the_file_is_unreadable) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  const auto not_dicom = dir_ / "not-dicom.dcm";
  std::ofstream(not_dicom) << "this is not DICOM";

  const SendResult result = send(destination_at(pacs.port()), not_dicom);

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::prepare);
  EXPECT_EQ(pacs.associations_acknowledged(), 0);
}

// ---- TLS --------------------------------------------------------------------------------------------------------

class DcmtkPacsSenderTlsTest : public DcmtkPacsSenderTest {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = std::make_unique<TempDir>("creni-forward-pki");
    pki_ok_ = testing::peers::make_test_pki(pki_dir_->path(), pki_, pki_error_);
  }
  static void TearDownTestSuite() { pki_dir_.reset(); }

  void SetUp() override { ASSERT_TRUE(pki_ok_) << pki_error_; }

  // storescp over TLS, requiring a client certificate from our test CA.
  std::unique_ptr<StoreScp> tls_pacs() {
    return std::make_unique<StoreScp>(
        dir_.path(), harness::free_port(),
        std::vector<std::string>{"+tls", pki_.server_key.string(), pki_.server_certificate.string(), "-pw", "+cf",
                                 pki_.ca.string(), "-rc"});
  }

  config::DestinationConfig tls_destination(int port, const std::filesystem::path& trusted_ca) {
    auto destination = destination_at(port);
    destination.tls.enabled = true;
    destination.tls.trusted_certificates = {trusted_ca};
    destination.tls.certificate = pki_.client_certificate;
    destination.tls.private_key = pki_.client_key;
    return destination;
  }

  static inline std::unique_ptr<TempDir> pki_dir_;
  static inline testing::peers::TestPki pki_;
  static inline bool pki_ok_ = false;
  static inline std::string pki_error_;
};

TEST_F(DcmtkPacsSenderTlsTest, stores_over_tls_when_the_pacs_certificate_comes_from_the_trusted_ca) {
  const auto pacs = tls_pacs();
  ASSERT_TRUE(pacs->wait_until_listening()) << pacs->log();

  const SendResult result = send(tls_destination(pacs->port(), pki_.ca), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::sent) << result.detail << "\n" << pacs->log();
  EXPECT_EQ(pacs->received_files().size(), 1u);
}

TEST_F(DcmtkPacsSenderTlsTest, fails_in_connect_when_the_pacs_certificate_comes_from_another_ca) {
  const auto pacs = tls_pacs();
  ASSERT_TRUE(pacs->wait_until_listening()) << pacs->log();

  const SendResult result = send(tls_destination(pacs->port(), pki_.other_ca), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
  EXPECT_NE(result.detail.find("TLS"), std::string::npos) << result.detail;
  EXPECT_EQ(pacs->store_requests_seen(), 0);
  EXPECT_TRUE(pacs->received_files().empty());
}

TEST_F(DcmtkPacsSenderTlsTest, never_falls_back_to_plain_tcp_when_the_pacs_does_not_speak_tls) {
  StoreScp plain(dir_.path(), harness::free_port());
  ASSERT_TRUE(plain.wait_until_listening()) << plain.log();

  const SendResult result = send(tls_destination(plain.port(), pki_.ca), this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::connect) << result.detail;
  EXPECT_EQ(plain.associations_acknowledged(), 0) << plain.log();
  EXPECT_TRUE(plain.received_files().empty());
}

TEST_F(DcmtkPacsSenderTlsTest, fails_in_prepare_when_no_trusted_certificate_is_configured) {
  auto destination = tls_destination(harness::free_port(), pki_.ca);
  destination.tls.trusted_certificates.clear();

  const SendResult result = send(destination, this->result("ct"));

  EXPECT_EQ(result.outcome, SendOutcome::failed);
  EXPECT_EQ(result.phase, SendPhase::prepare);
  EXPECT_NE(result.detail.find("trusted_certificates"), std::string::npos) << result.detail;
}

// ---- Forwarder with a real journal ------------------------------------------------------------------------------

class ForwarderTest : public DcmtkPacsSenderTest {
 protected:
  void SetUp() override {
    auto opened = journal::Journal::open(dir_ / "journal.db");
    ASSERT_TRUE(opened.ok()) << opened.error().describe();
    journal_ = std::move(opened).value();
  }

  void TearDown() override {
    if (forwarder_) forwarder_->stop();
  }

  // A processed result waiting for its destinations, as the pipeline leaves it.
  std::int64_t written_result(const std::string& name, const std::vector<std::string>& destinations,
                              testing::ImageSpec spec = {}) {
    const auto file = result(name, std::move(spec));
    const std::string sop = sop_of_[file];
    journal::NewArrival arrival;
    arrival.gateway_id = "1";
    arrival.source = journal::Source::folder;
    arrival.input_path = dir_ / ("in-" + name);
    arrival.sop_instance_uid = sop;
    arrival.content_hash = sop;
    auto recorded = journal_->record_arrival(arrival);
    EXPECT_TRUE(recorded.ok());
    auto claimed = journal_->claim_next(2);
    EXPECT_TRUE(claimed.ok() && claimed->has_value());
    const std::int64_t job = recorded->job_id;
    EXPECT_TRUE(journal_->mark_written(job, file, sop, destinations).ok());
    return job;
  }

  void start(std::vector<config::DestinationConfig> destinations,
             Forwarder::SenderFactory factory = dcmtk_sender_factory("CRENI")) {
    forwarder_ = std::make_unique<Forwarder>(*journal_, std::move(destinations), std::move(factory), 100ms);
    const Status started = forwarder_->start();
    ASSERT_TRUE(started.ok()) << started.error().describe();
  }

  journal::Forward forward_of(std::int64_t job, const std::string& destination = "pacs") {
    auto forwards = journal_->forwards_of(job);
    EXPECT_TRUE(forwards.ok());
    for (const auto& forward : forwards.value()) {
      if (forward.destination == destination) return forward;
    }
    ADD_FAILURE() << "no forward of job " << job << " to " << destination;
    return {};
  }

  journal::JobState job_state(std::int64_t job) {
    auto found = journal_->find_job(job);
    EXPECT_TRUE(found.ok() && found->has_value());
    return found.ok() && found->has_value() ? (*found)->state : journal::JobState::received;
  }

  bool forward_reaches(std::int64_t job, ForwardState state, std::chrono::milliseconds timeout,
                       const std::string& destination = "pacs") {
    return wait_until([&] { return forward_of(job, destination).state == state; }, timeout);
  }

  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<Forwarder> forwarder_;
};

TEST_F(ForwarderTest, shares_an_association_per_study_records_each_result_and_releases_it_when_idle) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  testing::ImageSpec study;
  study.study_instance_uid = testing::fresh_uid();
  std::vector<std::int64_t> jobs;
  for (const char* name : {"r1", "r2", "r3"}) jobs.push_back(written_result(name, {"pacs"}, study));
  auto destination = destination_at(pacs.port());
  destination.share_association = config::AssociationSharing::study;
  start({destination});

  for (const std::int64_t job : jobs) {
    ASSERT_TRUE(forward_reaches(job, ForwardState::done, 10s)) << pacs.log();
    EXPECT_EQ(forward_of(job).attempts, 1);
    EXPECT_EQ(forward_of(job).dimse_status, 0x0000);
  }
  EXPECT_EQ(pacs.associations_acknowledged(), 1) << pacs.log();
  // Nothing more is due: the association is released without waiting for the forwarder to stop.
  EXPECT_TRUE(wait_until([&] { return pacs.releases_received() >= 1; }, 5s)) << pacs.log();
  EXPECT_EQ(pacs.releases_received(), 1);
  EXPECT_EQ(pacs.store_requests_seen(), 3);
}

// Sends the first `successes` forwards, fails the rest (nothing went out); notes, at every send, how many forwards
// the journal has claimed and not yet settled (the batch in flight).
class CountingSender final : public PacsSender {
 public:
  CountingSender(journal::Journal& journal, std::vector<std::int64_t> jobs, int successes, std::vector<int>& in_flight)
      : journal_(journal), jobs_(std::move(jobs)), successes_(successes), in_flight_(in_flight) {}
  SendResult send_once(const std::filesystem::path&) override {
    int claimed = 0;
    for (const std::int64_t job : jobs_) {
      // Held by value: the range of a for loop over a temporary Result's value() would dangle.
      const std::vector<journal::Forward> forwards = journal_.forwards_of(job).value();
      for (const auto& forward : forwards) claimed += forward.state == ForwardState::forwarding;
    }
    in_flight_.push_back(claimed);
    if (static_cast<int>(in_flight_.size()) <= successes_) return {SendOutcome::sent, SendPhase::response, "stored", 0};
    return {SendOutcome::failed, SendPhase::connect, "connection refused", -1};
  }
  SendResult echo() override { return {SendOutcome::sent, SendPhase::response, "echo", 0}; }

 private:
  journal::Journal& journal_;
  const std::vector<std::int64_t> jobs_;
  const int successes_;
  std::vector<int>& in_flight_;
};

TEST_F(ForwarderTest, a_burst_is_claimed_in_growing_batches_and_after_a_failure_one_at_a_time_again) {
  std::vector<std::int64_t> jobs;
  for (int i = 0; i < 16; ++i) jobs.push_back(written_result("r" + std::to_string(i), {"pacs"}));
  std::vector<int> in_flight;  // written by the lane's thread only, read after stop()
  start({destination_at(harness::free_port())}, [&](const config::DestinationConfig&) {
    return std::make_unique<CountingSender>(*journal_, jobs, 3, in_flight);
  });
  ASSERT_TRUE(forward_reaches(jobs.back(), ForwardState::forward_failed, 10s));
  forwarder_->stop();
  ASSERT_EQ(in_flight.size(), 16u);
  // Batches of 1, 2, then 4: the journal had the whole batch claimed at each of its sends.
  EXPECT_EQ(in_flight[0], 1);
  EXPECT_EQ(in_flight[1], 2);
  EXPECT_EQ(in_flight[3], 4);
  // The batch of 4 met failures: from then on, one forward at a time.
  for (std::size_t i = 7; i < in_flight.size(); ++i) EXPECT_EQ(in_flight[i], 1) << "send " << i;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(forward_of(jobs[i]).state, i < 3 ? ForwardState::done : ForwardState::forward_failed) << "job " << i;
    EXPECT_EQ(forward_of(jobs[i]).attempts, 1);
  }
}

TEST_F(ForwarderTest, records_forward_failed_once_and_never_retries_with_a_single_attempt) {
  const std::int64_t job = written_result("ct", {"pacs"});
  start({destination_at(harness::free_port())});

  ASSERT_TRUE(forward_reaches(job, ForwardState::forward_failed, 10s));
  const journal::Forward forward = forward_of(job);
  EXPECT_EQ(forward.phase, "connect");
  EXPECT_EQ(forward.attempts, 1);
  EXPECT_EQ(forward.next_attempt_at_ms, std::nullopt);
  EXPECT_EQ(job_state(job), journal::JobState::forward_failed);
  // Several poll cycles later, still one attempt.
  EXPECT_FALSE(wait_until([&] { return forward_of(job).attempts > 1; }, 1s));
}

TEST_F(ForwarderTest, retries_while_the_pacs_is_down_and_delivers_once_when_it_comes_up) {
  const std::int64_t job = written_result("ct", {"pacs"});
  auto destination = destination_at(harness::free_port());
  destination.max_attempts = 3;
  destination.retry_backoff_s = 1;
  start({destination});

  ASSERT_TRUE(wait_until([&] { return forward_of(job).attempts == 1 && forward_of(job).state == ForwardState::waiting; },
                         10s));
  EXPECT_EQ(forward_of(job).phase, "connect");
  StoreScp pacs(dir_.path(), destination.port);
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();

  ASSERT_TRUE(forward_reaches(job, ForwardState::done, 15s)) << forward_of(job).detail;
  EXPECT_GE(forward_of(job).attempts, 2);
  EXPECT_EQ(job_state(job), journal::JobState::done);
  EXPECT_EQ(pacs.received_files().size(), 1u);
  EXPECT_FALSE(wait_until([&] { return pacs.store_requests_seen() > 1; }, 1s)) << pacs.log();
}

TEST_F(ForwarderTest, records_unknown_and_never_resends_when_the_pacs_stores_but_answers_too_late) {
  ASSERT_TRUE(std::filesystem::exists("/usr/sbin/Orthanc")) << "the Debian package orthanc is not installed";
  // Orthanc holds each instance for 4 s before storing and answering; we wait 2 s for the answer.
  Orthanc pacs(dir_.path(), harness::free_port(), harness::free_port(), 4);
  ASSERT_TRUE(pacs.wait_until_ready()) << "Orthanc did not start:\n" << pacs.log();
  const std::int64_t job = written_result("ct", {"pacs"});
  auto destination = destination_at(pacs.dicom_port());
  destination.dimse_timeout_s = 2;
  destination.max_attempts = 3;  // retries are allowed, yet an unknown outcome must not use them
  start({destination});

  ASSERT_TRUE(forward_reaches(job, ForwardState::forward_unknown, 30s)) << forward_of(job).detail;
  EXPECT_EQ(forward_of(job).phase, "response");
  EXPECT_EQ(job_state(job), journal::JobState::forward_unknown);
  ASSERT_TRUE(wait_until([&] { return pacs.instance_ids().size() == 1; }, 20s)) << pacs.log();
  EXPECT_EQ(pacs.sop_instance_uid_of(pacs.instance_ids().front()), sop_of_.begin()->second);
  // Well past a retry's back-off and many poll cycles: one reception, one attempt.
  EXPECT_FALSE(wait_until([&] { return pacs.receptions().size() > 1 || forward_of(job).attempts > 1; }, 3s));
  EXPECT_EQ(pacs.receptions().size(), 1u);
}

TEST_F(ForwarderTest, delivers_every_result_exactly_once_to_orthanc) {
  ASSERT_TRUE(std::filesystem::exists("/usr/sbin/Orthanc")) << "the Debian package orthanc is not installed";
  Orthanc pacs(dir_.path(), harness::free_port(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_ready()) << "Orthanc did not start:\n" << pacs.log();
  std::vector<std::int64_t> jobs;
  for (const char* name : {"one", "two", "three"}) jobs.push_back(written_result(name, {"pacs"}));
  start({destination_at(pacs.dicom_port())});
  forwarder_->wake();

  for (const std::int64_t job : jobs) {
    ASSERT_TRUE(forward_reaches(job, ForwardState::done, 30s)) << forward_of(job).detail;
  }
  std::multiset<std::string> expected;
  for (const auto& [file, sop] : sop_of_) expected.insert(sop);
  std::multiset<std::string> stored;
  for (const auto& id : pacs.instance_ids()) stored.insert(pacs.sop_instance_uid_of(id));
  EXPECT_EQ(stored, expected);
  const auto receptions = pacs.receptions();
  EXPECT_EQ(std::multiset<std::string>(receptions.begin(), receptions.end()), expected);
}

TEST_F(ForwarderTest, a_slow_pacs_does_not_hold_up_another_destination) {
  StoreScp slow(dir_.path(), harness::free_port(), {"--sleep-during", "2"});
  StoreScp fast(dir_.path(), harness::free_port());
  ASSERT_TRUE(slow.wait_until_listening()) << slow.log();
  ASSERT_TRUE(fast.wait_until_listening()) << fast.log();
  auto slow_destination = destination_at(slow.port(), "slow");
  slow_destination.dimse_timeout_s = 30;
  const std::int64_t job = written_result("ct", {"slow", "fast"});
  start({slow_destination, destination_at(fast.port(), "fast")});

  ASSERT_TRUE(wait_until([&] { return slow.store_requests_seen() == 1; }, 10s)) << slow.log();
  ASSERT_TRUE(forward_reaches(job, ForwardState::done, 3s, "fast"));
  EXPECT_EQ(forward_of(job, "slow").state, ForwardState::forwarding);
  EXPECT_EQ(job_state(job), journal::JobState::forwarding);

  ASSERT_TRUE(forward_reaches(job, ForwardState::done, 30s, "slow")) << forward_of(job, "slow").detail;
  EXPECT_EQ(job_state(job), journal::JobState::done);
  EXPECT_EQ(slow.received_files().size(), 1u);
  EXPECT_EQ(fast.received_files().size(), 1u);
}

TEST_F(ForwarderTest, never_resends_a_forward_whose_attempt_was_cut_short_by_a_crash) {
  StoreScp pacs(dir_.path(), harness::free_port());
  ASSERT_TRUE(pacs.wait_until_listening()) << pacs.log();
  const std::int64_t job = written_result("ct", {"pacs"});
  // The node recorded the attempt, then died before any outcome (kill -9 between `forwarding` and the answer).
  auto claimed = journal_->claim_forward("pacs");
  ASSERT_TRUE(claimed.ok() && claimed->has_value());
  journal_.reset();
  auto reopened = journal::Journal::open(dir_ / "journal.db");
  ASSERT_TRUE(reopened.ok()) << reopened.error().describe();
  journal_ = std::move(reopened).value();
  auto recovered = journal_->recover();
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(recovered->forwarding_unknown, 1);

  auto destination = destination_at(pacs.port());
  destination.max_attempts = 3;
  start({destination});

  EXPECT_FALSE(wait_until([&] { return pacs.associations_acknowledged() > 0; }, 1s)) << pacs.log();
  EXPECT_EQ(forward_of(job).state, ForwardState::forward_unknown);
  EXPECT_EQ(forward_of(job).attempts, 1);
}

// ---- Forwarder with a scripted sender ---------------------------------------------------------------------------

// Returns the scripted results in order (the last one repeats) and counts calls; throws when told to.
class ScriptedSender final : public PacsSender {
 public:
  ScriptedSender(std::deque<SendResult> script, std::shared_ptr<std::atomic<int>> calls, bool throws = false)
      : script_(std::move(script)), calls_(std::move(calls)), throws_(throws) {}

  SendResult send_once(const std::filesystem::path&) override {
    ++*calls_;
    if (throws_) throw std::runtime_error("sender exploded");
    const SendResult next = script_.front();
    if (script_.size() > 1) script_.pop_front();
    return next;
  }
  SendResult echo() override { return {SendOutcome::sent, SendPhase::response, "", 0}; }

 private:
  std::deque<SendResult> script_;
  std::shared_ptr<std::atomic<int>> calls_;
  bool throws_;
};

Forwarder::SenderFactory scripted(std::deque<SendResult> script, std::shared_ptr<std::atomic<int>> calls,
                                  bool throws = false) {
  return [=](const config::DestinationConfig&) { return std::make_unique<ScriptedSender>(script, calls, throws); };
}

TEST_F(ForwarderTest, never_retries_an_unknown_outcome_even_with_attempts_left) {
  const std::int64_t job = written_result("ct", {"pacs"});
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto destination = destination_at(1);
  destination.max_attempts = 5;
  start({destination}, scripted({{SendOutcome::unknown, SendPhase::response, "no answer", -1}}, calls));

  ASSERT_TRUE(forward_reaches(job, ForwardState::forward_unknown, 5s));
  EXPECT_FALSE(wait_until([&] { return *calls > 1; }, 1s));
  EXPECT_EQ(forward_of(job).attempts, 1);
  EXPECT_EQ(forward_of(job).next_attempt_at_ms, std::nullopt);
}

TEST_F(ForwarderTest, schedules_a_failed_attempt_again_after_the_back_off) {
  const std::int64_t job = written_result("ct", {"pacs"});
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto destination = destination_at(1);
  destination.max_attempts = 2;
  destination.retry_backoff_s = 1;
  start({destination}, scripted({{SendOutcome::failed, SendPhase::response, "0xA700 refused", 0xA700},
                                 {SendOutcome::sent, SendPhase::response, "0x0000 success", 0}},
                                calls));

  ASSERT_TRUE(wait_until([&] { return forward_of(job).attempts == 1 && forward_of(job).next_attempt_at_ms.has_value(); }, 5s));
  EXPECT_EQ(forward_of(job).state, ForwardState::waiting);
  EXPECT_EQ(forward_of(job).dimse_status, 0xA700);
  ASSERT_TRUE(forward_reaches(job, ForwardState::done, 5s));
  EXPECT_EQ(*calls, 2);
  EXPECT_EQ(forward_of(job).attempts, 2);
}

TEST_F(ForwarderTest, records_a_throwing_sender_as_unknown_and_keeps_going) {
  const std::int64_t first = written_result("one", {"pacs"});
  const std::int64_t second = written_result("two", {"pacs"});
  auto calls = std::make_shared<std::atomic<int>>(0);
  start({destination_at(1)}, scripted({{SendOutcome::sent, SendPhase::response, "", 0}}, calls, true));

  ASSERT_TRUE(forward_reaches(first, ForwardState::forward_unknown, 5s));
  ASSERT_TRUE(forward_reaches(second, ForwardState::forward_unknown, 5s));
  EXPECT_NE(forward_of(first).detail.find("sender exploded"), std::string::npos);
}

TEST_F(ForwarderTest, refuses_to_start_with_two_destinations_of_the_same_name) {
  Forwarder forwarder(*journal_, {destination_at(1), destination_at(2)}, dcmtk_sender_factory("CRENI"));

  const Status started = forwarder.start();

  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, "invalid_config");
}

}  // namespace
}  // namespace creni::forward

