#include "creni/pipeline/worker_protocol.hpp"

#include <gtest/gtest.h>

namespace creni::pipeline {
namespace {

TEST(WorkerProtocol, a_request_survives_paths_with_tabs_newlines_and_percent_signs) {
  JobRequest request;
  request.job_id = 42;
  request.gateway_id = "7";
  request.input = "/in/odd\tname\nwith%25/file";
  request.output_root = "/out/gateway_7";
  request.layout = config::OutputLayout::flat;
  request.mirror_root = "/in/gateway_7";
  const std::string line = encode_request(request);
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  const auto decoded = decode_request(line);
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->job_id, 42);
  EXPECT_EQ(decoded->gateway_id, "7");
  EXPECT_EQ(decoded->input, request.input);
  EXPECT_EQ(decoded->output_root, request.output_root);
  EXPECT_EQ(decoded->layout, config::OutputLayout::flat);
  EXPECT_EQ(decoded->mirror_root, request.mirror_root);
}

TEST(WorkerProtocol, a_done_reply_carries_both_identities) {
  JobReply reply;
  reply.job_id = 9;
  reply.ok = true;
  reply.output = "/out/1.2/3.4.dcm";
  reply.staged_output = "/out/1.2/.3.4.dcm.77-1.creni-tmp";
  reply.source = {"1.2.840.10008.5.1.4.1.1.2", "1.2.3", "1.2", "1.2.1", ""};
  reply.result = {"1.2.840.10008.5.1.4.1.1.2", "2.25.3", "2.25.1", "2.25.2", ""};
  reply.mirrored_input = "/in/gateway_1/1.2/1.2.3";
  reply.catalog_entry.patient = {{"PatientName", "O'NEIL^ANN\tTAB=x.y"}};
  reply.catalog_entry.image = {{"SOPInstanceUID", "2.25.3"}, {"PrivateCreator", "/out/1.2/3.4.dcm"}};
  reply.mirror_catalog_entry.image = {{"SOPInstanceUID", "1.2.3"}};
  const auto decoded = decode_reply(encode_reply(reply));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_TRUE(decoded->ok);
  EXPECT_EQ(decoded->output, reply.output);
  EXPECT_EQ(decoded->staged_output, reply.staged_output);
  EXPECT_EQ(decoded->source.sop_instance_uid, "1.2.3");
  EXPECT_EQ(decoded->result.study_instance_uid, "2.25.1");
  EXPECT_EQ(decoded->result.series_instance_uid, "2.25.2");
  EXPECT_EQ(decoded->result.sop_class_uid, "1.2.840.10008.5.1.4.1.1.2");
  EXPECT_EQ(decoded->mirrored_input, reply.mirrored_input);
  EXPECT_EQ(decoded->catalog_entry.patient, reply.catalog_entry.patient);
  EXPECT_EQ(decoded->catalog_entry.image, reply.catalog_entry.image);
  EXPECT_TRUE(decoded->catalog_entry.study.empty());
  EXPECT_EQ(decoded->mirror_catalog_entry.image, reply.mirror_catalog_entry.image);
}

TEST(WorkerProtocol, a_done_reply_carries_the_expected_size_of_the_series_when_known) {
  JobReply reply;
  reply.job_id = 4;
  reply.ok = true;
  reply.source = {"1.2.840.10008.5.1.4.1.1.2", "1.2.3", "1.2", "1.2.1", ""};
  reply.result = {"1.2.840.10008.5.1.4.1.1.2", "2.25.3", "2.25.1", "2.25.2", ""};
  reply.catalog_entry.image = {{"SOPInstanceUID", "2.25.3"}};
  EXPECT_EQ(decode_reply(encode_reply(reply))->expected_in_series, 0);
  reply.expected_in_series = 120;
  const auto decoded = decode_reply(encode_reply(reply));
  ASSERT_TRUE(decoded.ok()) << decoded.error().describe();
  EXPECT_EQ(decoded->expected_in_series, 120);
  EXPECT_EQ(decoded->catalog_entry.image, reply.catalog_entry.image);
  std::string line = encode_reply(reply);
  line.insert(line.size() - 1, "\tseries:expected=x");
  EXPECT_FALSE(decode_reply(line).ok());
}

TEST(WorkerProtocol, a_fail_reply_carries_reason_and_detail) {
  JobReply reply;
  reply.job_id = 3;
  reply.reason = "not_dicom";
  reply.detail = "no DICOM preamble\tand more";
  const auto decoded = decode_reply(encode_reply(reply));
  ASSERT_TRUE(decoded.ok());
  EXPECT_FALSE(decoded->ok);
  EXPECT_EQ(decoded->reason, "not_dicom");
  EXPECT_EQ(decoded->detail, reply.detail);
}

TEST(WorkerProtocol, refuses_garbage_lines) {
  EXPECT_FALSE(decode_request("HELLO\n").ok());
  EXPECT_FALSE(decode_request("JOB\tx\t1\ta\tb\tnested\n").ok());
  EXPECT_FALSE(decode_request("JOB\t1\t1\ta\tb\tsideways\n").ok());
  EXPECT_FALSE(decode_reply("DONE\t1\n").ok());
  EXPECT_FALSE(decode_request("JOB\t1\t1\ta%Z\tb\tnested\n").ok());
  EXPECT_FALSE(decode_request("JOB\t1\t1\ta%2\tb\tnested\n").ok());
  EXPECT_TRUE(decode_ready(encode_ready(1234)).ok());
  EXPECT_EQ(decode_ready(encode_ready(1234)).value(), 1234);
}

}  // namespace
}  // namespace creni::pipeline
