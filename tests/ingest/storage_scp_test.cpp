#include "creni/ingest/storage_scp.hpp"

#include <fstream>
#include <arpa/inet.h>
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcistrmf.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>
#include <dcmtk/dcmnet/dul.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "creni/ingest/unknown_syntax_contexts.hpp"
#include "dicom_factory.hpp"
#include "raw_store_scu.hpp"
#include "harness.hpp"

namespace creni::ingest {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kOurAe = "CRENI";
constexpr const char* kGateway1Ae = "GATEWAY_1";
constexpr const char* kCtImageStorage = UID_CTImageStorage;

// Records every arrival and answers what the test tells it to.
class RecordingSink final : public ArrivalSink {
 public:
  AcceptResult accept(const Arrival& arrival) override {
    const std::lock_guard lock(mutex_);
    arrivals_.push_back(arrival);
    AcceptResult result;
    result.outcome = answer_;
    result.reason = reason_;
    result.job_id = static_cast<std::int64_t>(arrivals_.size());
    return result;
  }

  void answer(AcceptOutcome outcome, std::string reason = "") {
    const std::lock_guard lock(mutex_);
    answer_ = outcome;
    reason_ = std::move(reason);
  }
  std::vector<Arrival> arrivals() const {
    const std::lock_guard lock(mutex_);
    return arrivals_;
  }
  std::size_t count() const { return arrivals().size(); }

 private:
  mutable std::mutex mutex_;
  std::vector<Arrival> arrivals_;
  AcceptOutcome answer_ = AcceptOutcome::accepted;
  std::string reason_;
};

// Listening sockets this process holds right now.
int listening_sockets() {
  int count = 0;
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t length = sizeof(listening);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length) == 0 && listening != 0) ++count;
  }
  return count;
}

// The data set part of a Part 10 file: everything after the meta group, whose length (0002,0000) DCMTK writes.
std::string dataset_bytes(const std::filesystem::path& file) {
  const std::string bytes = harness::read_file(file);
  if (bytes.size() < 144 || bytes.compare(128, 4, "DICM") != 0) return "";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + 140);
  const std::size_t group_length = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<std::size_t>(p[3]) << 24);
  return bytes.substr(144 + group_length);
}

// The data set as its encoder produced it before deflating, for files in the deflated syntax (PS3.5 section A.5):
// a sender deflates on the wire with flush points of its own, so only the inflated bytes can be compared.
std::string inflated_dataset_bytes(const std::filesystem::path& file) {
  const std::string whole = harness::read_file(file);
  const std::size_t offset = whole.size() - dataset_bytes(file).size();
  DcmInputFileStream stream(OFFilename(file.c_str()), static_cast<offile_off_t>(offset));
  if (stream.installCompressionFilter(ESC_zlib).bad()) return "";
  std::string inflated;
  char buffer[4096];
  while (stream.good() && !stream.eos()) {
    const offile_off_t got = stream.read(buffer, sizeof(buffer));
    if (got <= 0) break;
    inflated.append(buffer, static_cast<std::size_t>(got));
  }
  return inflated;
}

std::string meta_transfer_syntax(const std::filesystem::path& file) {
  DcmFileFormat format;
  if (format.loadFile(file.c_str()).bad()) return "";
  OFString syntax;
  format.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, syntax);
  return syntax.c_str();
}

// A presentation context to propose from TestScu.
struct Proposal {
  std::string abstract_syntax;
  std::vector<std::string> transfer_syntaxes;
};

// A minimal SCU on DCMTK's own API, for what storescu cannot do: read the rejection, craft a command whose UIDs
// differ from the data set's, cut the connection in the middle of a data set.
class TestScu {
 public:
  TestScu() { EXPECT_TRUE(ASC_initializeNetwork(NET_REQUESTOR, 0, 10, &network_).good()); }
  ~TestScu() {
    if (association_ != nullptr) {
      ASC_abortAssociation(association_);
      ASC_destroyAssociation(&association_);
    }
    ASC_dropNetwork(&network_);
  }
  TestScu(const TestScu&) = delete;
  TestScu& operator=(const TestScu&) = delete;

  OFCondition associate(std::uint16_t port, const std::string& calling, const std::string& called,
                        const std::vector<Proposal>& proposals) {
    T_ASC_Parameters* params = nullptr;
    ASC_createAssociationParameters(&params, ASC_DEFAULTMAXPDU);
    ASC_setAPTitles(params, calling.c_str(), called.c_str(), nullptr);
    ASC_setPresentationAddresses(params, "localhost", ("127.0.0.1:" + std::to_string(port)).c_str());
    T_ASC_PresentationContextID id = 1;
    for (const auto& proposal : proposals) {
      std::vector<const char*> syntaxes;
      for (const auto& s : proposal.transfer_syntaxes) syntaxes.push_back(s.c_str());
      ASC_addPresentationContext(params, id, proposal.abstract_syntax.c_str(), syntaxes.data(),
                                 static_cast<int>(syntaxes.size()));
      id += 2;
    }
    const OFCondition result = ASC_requestAssociation(network_, params, &association_);
    if (result == DUL_ASSOCIATIONREJECTED) ASC_getRejectParameters(params, &rejection_);
    if (result.bad()) {
      if (association_ != nullptr) {
        ASC_destroyAssociation(&association_);  // frees params too
      } else {
        ASC_destroyAssociationParameters(&params);
      }
    }
    return result;
  }

  [[nodiscard]] const T_ASC_RejectParameters& rejection() const { return rejection_; }

  // The negotiated context with this id (accepted or refused).
  T_ASC_PresentationContext context(T_ASC_PresentationContextID id) const {
    T_ASC_PresentationContext found{};
    const int count = ASC_countPresentationContexts(association_->params);
    for (int i = 0; i < count; ++i) {
      T_ASC_PresentationContext pc{};
      ASC_getPresentationContext(association_->params, i, &pc);
      if (pc.presentationContextID == id) found = pc;
    }
    return found;
  }

  // Sends one C-STORE whose command names `command_instance`; returns the response status, or -1 when the
  // exchange failed at transport level.
  int store(T_ASC_PresentationContextID id, DcmDataset& dataset, const std::string& command_instance,
            DIMSE_StoreUserCallback progress = nullptr, void* progress_data = nullptr) {
    T_DIMSE_C_StoreRQ request{};
    request.MessageID = association_->nextMsgID++;
    OFStandard::strlcpy(request.AffectedSOPClassUID, kCtImageStorage, sizeof(request.AffectedSOPClassUID));
    OFStandard::strlcpy(request.AffectedSOPInstanceUID, command_instance.c_str(),
                        sizeof(request.AffectedSOPInstanceUID));
    request.DataSetType = DIMSE_DATASET_PRESENT;
    request.Priority = DIMSE_PRIORITY_MEDIUM;
    T_DIMSE_C_StoreRSP response{};
    DcmDataset* detail = nullptr;
    const OFCondition sent = DIMSE_storeUser(association_, id, &request, nullptr, &dataset, progress, progress_data,
                                             DIMSE_BLOCKING, 0, &response, &detail);
    delete detail;
    return sent.good() ? response.DimseStatus : -1;
  }

  void release() {
    ASC_releaseAssociation(association_);
    ASC_destroyAssociation(&association_);
  }

 private:
  T_ASC_Network* network_ = nullptr;
  T_ASC_Association* association_ = nullptr;
  T_ASC_RejectParameters rejection_{};
};

// Our own end of the (only) connection this process has to the SCP on `port`.
int client_socket_to(std::uint16_t port) {
  for (int fd = 3; fd < 4096; ++fd) {
    sockaddr_in peer{};
    socklen_t length = sizeof(peer);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &length) == 0 && peer.sin_family == AF_INET &&
        ntohs(peer.sin_port) == port) {
      return fd;
    }
  }
  return -1;
}

const std::vector<Proposal> kCtExplicitLittle = {{kCtImageStorage, {UID_LittleEndianExplicitTransferSyntax}}};

class StorageScpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // as the node does: a peer closing must not kill the test
    ASSERT_FALSE(harness::find_program("echoscu").empty()) << "dcmtk (echoscu, storescu) is not installed";
  }

  StorageScpOptions options() const {
    StorageScpOptions o;
    o.ae_title = kOurAe;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.max_associations = 4;
    o.acse_timeout_s = 5;
    o.dimse_timeout_s = 10;
    o.spool_dir = spool_dir();
    config::GatewayConfig first;
    first.id = "1";
    first.calling_ae_titles = {kGateway1Ae};
    config::GatewayConfig second;
    second.id = "2";
    second.calling_ae_titles = {"GATEWAY_2"};
    o.gateways = {first, second};
    return o;
  }

  void start(const StorageScpOptions& o) {
    scp_ = std::make_unique<StorageScp>(o, sink_, [this] { return paused_.load(); });
    const Status started = scp_->start();
    ASSERT_TRUE(started.ok()) << started.error().describe();
    ASSERT_NE(scp_->port(), 0);
  }
  void start() { start(options()); }

  [[nodiscard]] std::filesystem::path spool_dir() const { return temp_ / "spool"; }
  [[nodiscard]] std::string port() const { return std::to_string(scp_->port()); }

  harness::CommandResult echoscu(const std::string& calling = kGateway1Ae, const std::string& called = kOurAe) const {
    return harness::run_command({"echoscu", "-to", "10", "-aet", calling, "-aec", called, "127.0.0.1", port()}, 30s);
  }

  // By default storescu proposes only the SOP classes of the files (-R), Explicit VR Little Endian first (-xe).
  harness::CommandResult storescu(const std::vector<std::filesystem::path>& files,
                                  const std::string& calling = kGateway1Ae,
                                  const std::vector<std::string>& proposals = {"-R", "-xe"}) const {
    std::vector<std::string> argv = {"storescu", "-v", "-to", "10", "-aet", calling, "-aec", kOurAe};
    argv.insert(argv.end(), proposals.begin(), proposals.end());
    argv.insert(argv.end(), {"127.0.0.1", port()});
    for (const auto& f : files) argv.push_back(f.string());
    return harness::run_command(argv, 60s);
  }

  static bool storescu_reported(const harness::CommandResult& result, const std::string& text) {
    return (result.out + result.err).find(text) != std::string::npos;
  }

  std::filesystem::path make_file(testing::ImageSpec spec, const std::string& name) const {
    const auto path = temp_ / name;
    const Status written = testing::write_image(spec, path);
    EXPECT_TRUE(written.ok()) << (written.ok() ? "" : written.error().describe());
    return path;
  }

  // Files left in the spool with the given suffix.
  [[nodiscard]] std::vector<std::filesystem::path> spool_files(const std::string& suffix) const {
    std::vector<std::filesystem::path> found;
    for (const auto& f : harness::spooled_files_below(spool_dir())) {
      const auto name = f.filename().string();
      if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
        found.push_back(f);
      }
    }
    return found;
  }

  bool no_association_within(std::chrono::milliseconds timeout) const {
    return harness::wait_until([this] { return scp_->active_associations() == 0; }, timeout);
  }

  harness::TempDir temp_{"creni-scp"};
  RecordingSink sink_;
  std::atomic<bool> paused_{false};
  std::unique_ptr<StorageScp> scp_;
};

TEST_F(StorageScpTest, answers_echoscu) {
  start();
  const auto echo = echoscu();
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

TEST_F(StorageScpTest, opens_one_listening_socket_and_none_for_dcmtk) {
  const int before = listening_sockets();
  start();
  EXPECT_EQ(listening_sockets(), before + 1);
  scp_->stop();
  EXPECT_EQ(listening_sockets(), before);
}

TEST_F(StorageScpTest, reports_bind_failed_naming_the_address_when_the_port_is_taken) {
  start();
  StorageScpOptions second = options();
  second.port = scp_->port();
  StorageScp other(second, sink_);
  const Status started = other.start();
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error().code, "bind_failed");
  EXPECT_NE(started.error().message.find("127.0.0.1:" + port()), std::string::npos) << started.error().message;
}

TEST_F(StorageScpTest, hands_a_stored_image_to_the_sink_with_gateway_peer_and_uids) {
  start();
  testing::ImageSpec spec;
  const auto file = make_file(spec, "ct.dcm");
  const auto sent = storescu({file}, kGateway1Ae, {});  // storescu's defaults: every storage SOP class proposed
  ASSERT_EQ(sent.exit_code, 0) << sent.err;

  const auto arrivals = sink_.arrivals();
  ASSERT_EQ(arrivals.size(), 1U);
  const Arrival& arrival = arrivals.front();
  EXPECT_EQ(arrival.gateway_id, "1");
  EXPECT_EQ(arrival.source, ArrivalSource::scp);
  EXPECT_EQ(arrival.peer, "GATEWAY_1@127.0.0.1");
  EXPECT_EQ(arrival.sop_class_uid, kCtImageStorage);
  DcmFileFormat original;
  ASSERT_TRUE(original.loadFile(file.c_str()).good());
  OFString instance;
  original.getDataset()->findAndGetOFString(DCM_SOPInstanceUID, instance);
  EXPECT_EQ(arrival.sop_instance_uid, instance.c_str());
  EXPECT_EQ(arrival.path.parent_path(), spool_dir());
  EXPECT_EQ(arrival.path.extension(), ".dcm");
  EXPECT_TRUE(std::filesystem::exists(arrival.path));
  EXPECT_EQ(scp_->images_stored(), 1U);
}

// The spool file starts as DIMSE_createFilestream would have started it (PS3.10 section 7.1): the meta group says
// what the command and the presentation context say, and the sender's data set follows it byte for byte.
TEST_F(StorageScpTest, spools_the_meta_group_of_the_command_and_context_before_the_data_set) {
  start();
  testing::ImageSpec spec;
  const auto file = make_file(spec, "ct.dcm");
  const auto sent = storescu({file});  // explicit VR little endian proposed first
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  const auto arrivals = sink_.arrivals();
  ASSERT_EQ(arrivals.size(), 1U);

  DcmFileFormat spooled;
  ASSERT_TRUE(spooled.loadFile(arrivals.front().path.c_str()).good());
  DcmMetaInfo& meta = *spooled.getMetaInfo();
  const auto text = [&meta](const DcmTagKey& tag) {
    OFString value;
    meta.findAndGetOFStringArray(tag, value);
    return std::string(value.c_str());
  };
  const Uint8* version = nullptr;
  unsigned long version_count = 0;
  ASSERT_TRUE(meta.findAndGetUint8Array(DCM_FileMetaInformationVersion, version, &version_count).good());
  ASSERT_EQ(version_count, 2U);
  EXPECT_EQ(version[0], 0);
  EXPECT_EQ(version[1], 1);
  EXPECT_EQ(text(DCM_MediaStorageSOPClassUID), kCtImageStorage);
  EXPECT_EQ(text(DCM_MediaStorageSOPInstanceUID), arrivals.front().sop_instance_uid);
  EXPECT_EQ(text(DCM_TransferSyntaxUID), UID_LittleEndianExplicitTransferSyntax);
  EXPECT_EQ(text(DCM_ImplementationClassUID), OFFIS_IMPLEMENTATION_CLASS_UID);
  EXPECT_EQ(text(DCM_ImplementationVersionName), OFFIS_DTK_IMPLEMENTATION_VERSION_NAME2);
  EXPECT_EQ(text(DCM_SourceApplicationEntityTitle), kGateway1Ae);
  // (0002,0000) counts the group exactly: the data set starts where it says, and is the sender's own encoding.
  EXPECT_EQ(dataset_bytes(arrivals.front().path), dataset_bytes(file));
}

class StorageScpTransferSyntaxTest : public StorageScpTest,
                                     public ::testing::WithParamInterface<testing::TransferSyntaxCase> {};

TEST_P(StorageScpTransferSyntaxTest, stores_exactly_the_data_set_storescu_sent) {
  start();
  testing::ImageSpec spec;  // 128 KiB of pixels: several PDVs
  spec.rows = 256;
  spec.columns = 256;
  spec.transfer_syntax = GetParam().uid;
  if (!GetParam().supports_16_bit) {
    spec.bits_allocated = 8;
    spec.bits_stored = 8;
    spec.window = std::make_pair(128.0, 256.0);
  }
  const auto file = make_file(spec, GetParam().name + ".dcm");
  const auto sent = storescu({file}, kGateway1Ae, {"-R", testing::storescu_proposal_for(GetParam().uid)});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;

  const auto arrivals = sink_.arrivals();
  ASSERT_EQ(arrivals.size(), 1U);
  EXPECT_EQ(meta_transfer_syntax(arrivals.front().path), GetParam().uid);
  const bool deflated = GetParam().uid == UID_DeflatedExplicitVRLittleEndianTransferSyntax;
  const auto content = deflated ? inflated_dataset_bytes : dataset_bytes;
  const std::string received = content(arrivals.front().path);
  EXPECT_FALSE(received.empty());
  EXPECT_TRUE(received == content(file)) << "data set bytes differ (" << received.size() << " received)";
}

INSTANTIATE_TEST_SUITE_P(EveryDecodableSyntax, StorageScpTransferSyntaxTest,
                         ::testing::ValuesIn(testing::network_transfer_syntaxes()),
                         [](const auto& info) { return info.param.name; });

// DCMTK 3.6.7 does not know HTJ2K: the context is accepted under its real UID (what the sender sees), received
// through a stand-in, and spooled byte for byte with the real UID back in the meta header (issue 15).
TEST_F(StorageScpTest, accepts_htj2k_and_spools_it_under_its_own_syntax) {
  start();
  for (const char* htj2k : {"1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203"}) {
    testing::ImageSpec spec;
    spec.transfer_syntax = htj2k;
    spec.sop_instance_uid = testing::fresh_uid();
    const auto file = make_file(spec, std::string("htj2k-") + htj2k + ".dcm");
    // The sender's order wins: an unknown first choice, JPEG 2000 as its fallback.
    const auto sent = testing::store_raw(scp_->port(), kGateway1Ae, kOurAe, kCtImageStorage, spec.sop_instance_uid,
                                         {"1.2.840.10008.1.2.4.999", htj2k, UID_JPEG2000TransferSyntax}, file);
    EXPECT_EQ(sent.accepted_syntax, htj2k);
    EXPECT_EQ(sent.status, STATUS_Success) << htj2k;
    const auto arrivals = sink_.arrivals();
    ASSERT_FALSE(arrivals.empty());
    EXPECT_EQ(meta_transfer_syntax(arrivals.back().path), htj2k);
    EXPECT_TRUE(dataset_bytes(arrivals.back().path) == dataset_bytes(file)) << htj2k;
  }
  EXPECT_EQ(sink_.count(), 3U);
}

TEST_F(StorageScpTest, serves_parallel_senders) {
  start();
  std::vector<std::unique_ptr<harness::ChildProcess>> senders;
  for (int sender = 0; sender < 4; ++sender) {
    std::vector<std::string> argv = {"storescu", "-R", "-aet", kGateway1Ae, "-aec", kOurAe, "127.0.0.1", port()};
    for (int i = 0; i < 5; ++i) {
      argv.push_back(make_file({}, "s" + std::to_string(sender) + "-" + std::to_string(i) + ".dcm").string());
    }
    senders.push_back(std::make_unique<harness::ChildProcess>(argv, temp_.path()));
  }
  for (auto& sender : senders) EXPECT_EQ(sender->wait(60s), 0) << sender->stderr_text();
  EXPECT_EQ(sink_.count(), 20U);
  EXPECT_EQ(spool_files(".dcm").size(), 20U);
}

TEST_F(StorageScpTest, rejects_an_unknown_calling_ae_title_permanently_with_reason_3) {
  start();
  const auto echo = echoscu("STRANGER");
  EXPECT_NE(echo.exit_code, 0);
  EXPECT_NE(echo.err.find("Calling AE Title Not Recognized"), std::string::npos) << echo.err;

  TestScu scu;
  EXPECT_EQ(scu.associate(scp_->port(), "STRANGER", kOurAe, kCtExplicitLittle), DUL_ASSOCIATIONREJECTED);
  EXPECT_EQ(scu.rejection().result, ASC_RESULT_REJECTEDPERMANENT);
  EXPECT_EQ(scu.rejection().source, ASC_SOURCE_SERVICEUSER);
  EXPECT_EQ(scu.rejection().reason, ASC_REASON_SU_CALLINGAETITLENOTRECOGNIZED);
  EXPECT_EQ(sink_.count(), 0U);
}

TEST_F(StorageScpTest, rejects_an_unknown_called_ae_title_permanently_with_reason_7) {
  start();
  const auto echo = echoscu(kGateway1Ae, "SOMEONE_ELSE");
  EXPECT_NE(echo.exit_code, 0);
  EXPECT_NE(echo.err.find("Called AE Title Not Recognized"), std::string::npos) << echo.err;

  TestScu scu;
  EXPECT_EQ(scu.associate(scp_->port(), kGateway1Ae, "SOMEONE_ELSE", kCtExplicitLittle), DUL_ASSOCIATIONREJECTED);
  EXPECT_EQ(scu.rejection().result, ASC_RESULT_REJECTEDPERMANENT);
  EXPECT_EQ(scu.rejection().source, ASC_SOURCE_SERVICEUSER);
  EXPECT_EQ(scu.rejection().reason, ASC_REASON_SU_CALLEDAETITLENOTRECOGNIZED);
}

TEST_F(StorageScpTest, takes_unknown_calling_ae_titles_into_the_default_gateway) {
  StorageScpOptions o = options();
  o.default_gateway = "2";
  start(o);
  const auto file = make_file({}, "ct.dcm");
  const auto sent = storescu({file}, "STRANGER");
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  ASSERT_EQ(sink_.count(), 1U);
  EXPECT_EQ(sink_.arrivals().front().gateway_id, "2");
  EXPECT_EQ(sink_.arrivals().front().peer, "STRANGER@127.0.0.1");
}

TEST_F(StorageScpTest, follows_the_senders_syntax_order_and_refuses_what_it_cannot_decode) {
  start();
  TestScu scu;
  ASSERT_TRUE(
      scu.associate(
             scp_->port(), kGateway1Ae, kOurAe,
             // JPEG 2000 Part 2 (no decoder) and MPEG2 (the node's own stand-in, never negotiated): refused.
             {{kCtImageStorage, {UID_JPEG2000Part2MulticomponentImageCompressionLosslessOnlyTransferSyntax,
                                 kStandInTransferSyntax}},
              {kCtImageStorage, {UID_JPEGLSLosslessTransferSyntax, UID_LittleEndianExplicitTransferSyntax}},
              {kCtImageStorage, {UID_LittleEndianImplicitTransferSyntax, UID_LittleEndianExplicitTransferSyntax}},
              {"1.2.3.4.5", {UID_LittleEndianExplicitTransferSyntax}},
              {UID_VerificationSOPClass, {UID_JPEGLSLosslessTransferSyntax, UID_LittleEndianImplicitTransferSyntax}}})
          .good());
  EXPECT_EQ(scu.context(1).resultReason, ASC_P_TRANSFERSYNTAXESNOTSUPPORTED);
  EXPECT_EQ(scu.context(3).resultReason, ASC_P_ACCEPTANCE);
  EXPECT_STREQ(scu.context(3).acceptedTransferSyntax, UID_JPEGLSLosslessTransferSyntax);
  EXPECT_STREQ(scu.context(5).acceptedTransferSyntax, UID_LittleEndianImplicitTransferSyntax);
  EXPECT_EQ(scu.context(7).resultReason, ASC_P_ABSTRACTSYNTAXNOTSUPPORTED);
  EXPECT_STREQ(scu.context(9).acceptedTransferSyntax, UID_LittleEndianImplicitTransferSyntax);
  scu.release();
}

TEST_F(StorageScpTest, silent_connections_do_not_delay_echoscu) {
  StorageScpOptions o = options();
  o.acse_timeout_s = 30;
  start(o);
  std::vector<std::unique_ptr<harness::RawConnection>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(std::make_unique<harness::RawConnection>(scp_->port()));
    ASSERT_TRUE(silent.back()->connected());
  }
  const auto began = Clock::now();
  const auto echo = echoscu();
  const auto took = Clock::now() - began;
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
  EXPECT_LT(took, 2s);
}

TEST_F(StorageScpTest, closes_a_connection_that_speaks_http_and_keeps_serving) {
  start();
  harness::RawConnection http(scp_->port());
  ASSERT_TRUE(http.connected());
  http.send_text("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_TRUE(http.closed_by_peer_within(2s));
  const auto echo = echoscu();
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

TEST_F(StorageScpTest, closes_a_connection_whose_associate_request_is_malformed) {
  start();
  harness::RawConnection garbage(scp_->port());
  ASSERT_TRUE(garbage.connected());
  garbage.send_text(std::string("\x01\x00\x00\x00\x00\x0a", 6) + "0123456789");  // a complete PDU of nonsense
  EXPECT_TRUE(garbage.closed_by_peer_within(3s));
  ASSERT_TRUE(no_association_within(5s));
  const auto echo = echoscu();
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

TEST_F(StorageScpTest, drops_a_peer_whose_associate_request_never_completes) {
  StorageScpOptions o = options();
  o.acse_timeout_s = 1;
  start(o);
  harness::RawConnection trickle(scp_->port());
  ASSERT_TRUE(trickle.connected());
  trickle.send_text(std::string("\x01\x00\x00\x00\x01\x00", 6) + "partial");  // announces 256 bytes, sends 7
  EXPECT_FALSE(trickle.closed_by_peer_within(300ms));
  EXPECT_TRUE(trickle.closed_by_peer_within(3s));
  const auto echo = echoscu();
  EXPECT_EQ(echo.exit_code, 0) << echo.err;
}

TEST_F(StorageScpTest, rejects_transiently_when_every_worker_is_busy) {
  StorageScpOptions o = options();
  o.max_associations = 1;
  start(o);
  TestScu holder;
  ASSERT_TRUE(holder.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());

  const auto refused = echoscu();
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("Local Limit Exceeded"), std::string::npos) << refused.err;
  TestScu second;
  EXPECT_EQ(second.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle), DUL_ASSOCIATIONREJECTED);
  EXPECT_EQ(second.rejection().result, ASC_RESULT_REJECTEDTRANSIENT);

  holder.release();
  ASSERT_TRUE(no_association_within(5s));
  EXPECT_EQ(echoscu().exit_code, 0);
}

TEST_F(StorageScpTest, answers_0xA700_and_keeps_nothing_when_the_sink_is_out_of_resources) {
  start();
  sink_.answer(AcceptOutcome::out_of_resources, "out_of_resources");
  const auto file = make_file({}, "ct.dcm");
  const auto sent = storescu({file});
  EXPECT_TRUE(storescu_reported(sent, "Refused: OutOfResources")) << sent.out << sent.err;
  EXPECT_EQ(sink_.count(), 1U);
  ASSERT_TRUE(no_association_within(5s));
  EXPECT_TRUE(spool_files(".dcm").empty());
  EXPECT_TRUE(spool_files(".creni-tmp").empty());
}

TEST_F(StorageScpTest, answers_0xA700_without_storing_while_intake_is_paused) {
  start();
  paused_ = true;
  const auto file = make_file({}, "ct.dcm");
  const auto sent = storescu({file});
  EXPECT_TRUE(storescu_reported(sent, "Refused: OutOfResources")) << sent.out << sent.err;
  EXPECT_EQ(sink_.count(), 0U);
  EXPECT_TRUE(harness::spooled_files_below(spool_dir()).empty());
}

TEST_F(StorageScpTest, answers_0xA900_when_the_data_set_is_another_instance_than_the_command) {
  start();
  testing::ImageSpec spec;
  spec.sop_instance_uid = testing::fresh_uid();
  auto image = testing::make_image(spec);
  TestScu scu;
  ASSERT_TRUE(scu.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());

  EXPECT_EQ(scu.store(1, *image->getDataset(), testing::fresh_uid()), 0xA900);
  EXPECT_EQ(scu.store(1, *image->getDataset(), spec.sop_instance_uid), 0x0000);  // the association goes on
  scu.release();
  EXPECT_EQ(sink_.count(), 1U);
  ASSERT_TRUE(no_association_within(5s));
  EXPECT_EQ(spool_files(".dcm").size(), 1U);
  EXPECT_TRUE(spool_files(".creni-tmp").empty());
}

TEST_F(StorageScpTest, answers_success_for_a_duplicate_and_0xc111_for_a_conflict_keeping_no_spool_file) {
  start();
  testing::ImageSpec spec;
  spec.sop_instance_uid = testing::fresh_uid();
  auto image = testing::make_image(spec);
  TestScu scu;
  ASSERT_TRUE(scu.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());
  sink_.answer(AcceptOutcome::duplicate);
  EXPECT_EQ(scu.store(1, *image->getDataset(), spec.sop_instance_uid), 0x0000);
  sink_.answer(AcceptOutcome::conflict, "conflict");
  // 0xC111 (PS3.4 C-STORE "Error: cannot understand" range), not 0x0111, which is no C-STORE status.
  EXPECT_EQ(scu.store(1, *image->getDataset(), spec.sop_instance_uid), 0xC111);
  scu.release();
  // Only new work keeps its spool file: a repeat leaves nothing, a conflict is the sink's to keep (in quarantine).
  ASSERT_EQ(sink_.arrivals().size(), 2U);
  for (const auto& arrival : sink_.arrivals()) EXPECT_FALSE(std::filesystem::exists(arrival.path));
  EXPECT_TRUE(harness::spooled_files_below(spool_dir()).empty());
}

TEST_F(StorageScpTest, refuses_a_hostile_sop_instance_uid_before_storing_anything) {
  start();
  testing::ImageSpec spec;
  spec.sop_instance_uid = "../../x";
  auto image = testing::make_image(spec);
  TestScu scu;
  ASSERT_TRUE(scu.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());
  EXPECT_EQ(scu.store(1, *image->getDataset(), "../../x"), 0xC000);
  scu.release();

  EXPECT_EQ(sink_.count(), 0U);  // never offered to the node: it could not name a file after it anyway
  ASSERT_TRUE(no_association_within(5s));
  EXPECT_TRUE(harness::spooled_files_below(spool_dir()).empty());
  EXPECT_FALSE(std::filesystem::exists(temp_.path().parent_path() / "x"));
}

// Cuts the connection once part of the data set is on its way, as a sender killed mid-transfer would.
void cut_after_first_quarter_megabyte(void* socket, T_DIMSE_StoreProgress* progress, T_DIMSE_C_StoreRQ*) {
  if (progress->state == DIMSE_StoreProgressing && progress->progressBytes > 256 * 1024) {
    ::shutdown(*static_cast<int*>(socket), SHUT_RDWR);
  }
}

TEST_F(StorageScpTest, an_abort_mid_association_keeps_acknowledged_images_and_leaves_no_debris) {
  start();
  TestScu scu;
  ASSERT_TRUE(scu.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());
  for (int i = 0; i < 2; ++i) {
    testing::ImageSpec small;
    small.sop_instance_uid = testing::fresh_uid();
    ASSERT_EQ(scu.store(1, *testing::make_image(small)->getDataset(), small.sop_instance_uid), 0x0000);
  }
  testing::ImageSpec large;
  large.rows = 1024;
  large.columns = 1024;
  large.frames = 2;
  large.sop_instance_uid = testing::fresh_uid();
  int socket = client_socket_to(scp_->port());
  ASSERT_GE(socket, 0);
  EXPECT_EQ(scu.store(1, *testing::make_image(large)->getDataset(), large.sop_instance_uid,
                      cut_after_first_quarter_megabyte, &socket),
            -1);

  ASSERT_TRUE(no_association_within(5s));
  const auto arrivals = sink_.arrivals();
  ASSERT_EQ(arrivals.size(), 2U);
  for (const auto& arrival : arrivals) EXPECT_TRUE(std::filesystem::exists(arrival.path));
  EXPECT_TRUE(spool_files(".creni-tmp").empty());
  EXPECT_EQ(spool_files(".dcm").size(), 2U);
  EXPECT_EQ(echoscu().exit_code, 0);
}

TEST_F(StorageScpTest, stop_returns_promptly_with_connections_open) {
  start();
  TestScu idle;
  ASSERT_TRUE(idle.associate(scp_->port(), kGateway1Ae, kOurAe, kCtExplicitLittle).good());
  harness::RawConnection silent(scp_->port());
  ASSERT_TRUE(silent.connected());
  ASSERT_TRUE(harness::wait_until([this] { return scp_->active_associations() == 1; }, 5s));

  const auto began = Clock::now();
  scp_->stop();
  EXPECT_LT(Clock::now() - began, 3s);
  EXPECT_EQ(scp_->active_associations(), 0);
  EXPECT_TRUE(silent.closed_by_peer_within(1s));
  scp_->stop();  // idempotent
}

}  // namespace
}  // namespace creni::ingest
