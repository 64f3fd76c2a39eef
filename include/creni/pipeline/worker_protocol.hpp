#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "creni/catalog/catalog.hpp"
#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"

/// The line protocol between the node and its worker processes (stdin/stdout of the worker). One message per
/// line, fields separated by TAB, each field percent-escaped ('%', TAB, CR, LF) so that any path fits.
///   worker -> node:  READY <pid>
///   node -> worker:  JOB <job_id> <gateway_id> <input path> <output root> <nested|flat> <mirror root or "">
///                        <journal SOP Instance UID or ""> <journal content hash or "">
///   worker -> node:  DONE <job_id> <output path> <staged output path> <src sop> <src study> <src series>
///                         <sop class> <res sop> <res study> <res series> <mirrored input path or "">
///                         <inference microseconds>
///                         [<table>.<column>=<value> ...]
///                    (the trailing fields: the result's OUTPUT image.db entry, then the mirrored input's INPUT
///                    image.db entry with the prefix "input:")
///                    FAIL <job_id> <reason code> <detail>
namespace creni::pipeline {

struct JobRequest {
  std::int64_t job_id = 0;
  std::string gateway_id;
  std::filesystem::path input;
  std::filesystem::path output_root;   ///< OUTPUT/gateway_<id>
  config::OutputLayout layout = config::OutputLayout::nested;
  /// For an SCP arrival: INPUT/gateway_<id>. The worker links the received file there as <StudyUID>/<SOPUID> and
  /// adds it to that folder's image.db, so that both doors leave the same traces. Empty for folder arrivals.
  std::filesystem::path mirror_root;
  /// The SOP Instance UID the journal has for the job (the meta header's at arrival, or the C-STORE command's);
  /// "" when the arrival named none (a file without meta header). The data set must carry the same.
  std::string expected_sop_instance_uid;
  /// The journal's SHA-256 of the input's data set when it arrived; the bytes the worker parses must hash alike.
  std::string expected_content_hash;
};

struct JobReply {
  std::int64_t job_id = 0;
  bool ok = false;
  std::string reason;                  ///< FAIL: machine code (journal reason)
  std::string detail;                  ///< FAIL: human-readable
  std::filesystem::path output;        ///< DONE: where the result goes (OUTPUT/gateway_<id>/...)
  /// DONE: the result, completely written next to `output` but neither synced nor renamed: the node commits it
  /// (fs::commit_file) while the worker already processes the next job.
  std::filesystem::path staged_output;
  dicom::InstanceIdentity source;      ///< DONE: the input's UIDs
  dicom::InstanceIdentity result;      ///< DONE: the derived UIDs
  std::filesystem::path mirrored_input;  ///< DONE: where the input now also lies in INPUT (mirror_root), or empty
  catalog::CatalogRecord catalog_entry;  ///< DONE: the result's row in OUTPUT/gateway_<id>/image.db
  catalog::CatalogRecord mirror_catalog_entry;  ///< DONE: the mirrored input's row in INPUT/gateway_<id>/image.db
  std::int64_t inference_us = 0;       ///< DONE: time spent running models on this image (0 without "infer")
};

[[nodiscard]] std::string encode_ready(long pid);
[[nodiscard]] std::string encode_request(const JobRequest& request);
[[nodiscard]] std::string encode_reply(const JobReply& reply);

/// Errors: "protocol_error" naming what is wrong with the line.
[[nodiscard]] Result<long> decode_ready(std::string_view line);
[[nodiscard]] Result<JobRequest> decode_request(std::string_view line);
[[nodiscard]] Result<JobReply> decode_reply(std::string_view line);

}  // namespace creni::pipeline
