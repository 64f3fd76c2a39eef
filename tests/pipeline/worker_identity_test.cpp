// The worker process itself (the built `creni-node worker`), fed job lines as the node feeds them: it writes
// nothing for a job whose data set is not the instance the journal announced (for a network arrival: the C-STORE
// command's), nor for an input whose bytes are no longer those that arrived.
#include <gtest/gtest.h>

#include "creni/common/content_hash.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "creni/pipeline/worker_process.hpp"
#include "creni/pipeline/worker_protocol.hpp"
#include "dicom_factory.hpp"
#include "harness/harness.hpp"

namespace creni::pipeline {
namespace {

using namespace std::chrono_literals;

class WorkerIdentity : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::ImageSpec spec;
    spec.sop_instance_uid = sop_;
    ASSERT_TRUE(testing::write_image(spec, input_).ok());
    auto meta = dicom::read_meta_identity(input_);
    ASSERT_TRUE(meta.ok());
    hash_ = sha256_of_file(input_, meta->dataset_offset).value();
    auto spawned = WorkerProcess::spawn({CRENI_NODE_BINARY, "worker"});
    ASSERT_TRUE(spawned.ok()) << spawned.error().describe();
    worker_ = std::move(spawned).value();
    ASSERT_TRUE(worker_->read_line(30s).ok());  // READY
  }

  // Sends one job (as an SCP arrival: mirrored into INPUT) and returns the worker's answer.
  JobReply run(const std::string& announced_sop, const std::string& announced_hash) {
    JobRequest request;
    request.job_id = 1;
    request.gateway_id = "1";
    request.input = input_;
    request.output_root = root_ / "OUTPUT" / "gateway_1";
    request.mirror_root = root_ / "INPUT" / "gateway_1";
    request.expected_sop_instance_uid = announced_sop;
    request.expected_content_hash = announced_hash;
    EXPECT_TRUE(worker_->send_line(encode_request(request)).ok());
    auto line = worker_->read_line(30s);
    EXPECT_TRUE(line.ok());
    auto reply = decode_reply(line ? line.value() : std::string());
    EXPECT_TRUE(reply.ok());
    return reply ? reply.value() : JobReply{};
  }

  harness::TempDir root_{"creni-worker-identity"};
  std::string sop_ = testing::fresh_uid();
  std::filesystem::path input_ = root_ / "spooled.dcm";
  std::string hash_;
  std::unique_ptr<WorkerProcess> worker_;
};

TEST_F(WorkerIdentity, a_data_set_that_is_not_the_c_store_commands_instance_is_rejected_and_nothing_is_written) {
  const std::string commanded = testing::fresh_uid();
  const JobReply reply = run(commanded, hash_);
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.reason, "identity_mismatch");
  EXPECT_EQ(reply.detail, "SOPInstanceUID: C-STORE command " + commanded + ", data set " + sop_);
  EXPECT_TRUE(harness::files_below(root_.path()).size() == 1u) << "something was written besides the input";
}

TEST_F(WorkerIdentity, bytes_other_than_those_that_arrived_are_rejected_as_input_changed) {
  const JobReply reply = run(sop_, std::string(64, '0'));
  EXPECT_FALSE(reply.ok);
  EXPECT_EQ(reply.reason, "input_changed");
  EXPECT_TRUE(harness::files_below(root_.path()).size() == 1u) << "something was written besides the input";
}

TEST_F(WorkerIdentity, the_announced_instance_with_its_bytes_is_processed) {
  const JobReply reply = run(sop_, hash_);
  EXPECT_TRUE(reply.ok) << reply.reason << ": " << reply.detail;
  EXPECT_EQ(reply.source.sop_instance_uid, sop_);
}

}  // namespace
}  // namespace creni::pipeline
