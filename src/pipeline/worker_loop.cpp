#include "creni/pipeline/worker_loop.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "creni/catalog/catalog.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/pipeline/worker_protocol.hpp"
#include "creni/process/processing_chain.hpp"

namespace creni::pipeline {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("pipeline");
  return named ? named : spdlog::default_logger();
}

void apply_limits(const config::ProcessingConfig& processing) {
  const rlim_t address_space = static_cast<rlim_t>(processing.worker_memory_mb) * 1024 * 1024;
  const rlimit memory{address_space, address_space};
  if (::setrlimit(RLIMIT_AS, &memory) != 0) logger()->warn("cannot limit worker memory: {}", std::strerror(errno));
  const rlimit no_core{0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
}

bool write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one line from `fd`; false at end of input.
bool read_line(int fd, std::string& buffer, std::string& line) {
  while (true) {
    if (const auto newline = buffer.find('\n'); newline != std::string::npos) {
      line = buffer.substr(0, newline + 1);
      buffer.erase(0, newline + 1);
      return true;
    }
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
}

JobReply failure(std::int64_t job_id, const Error& error) {
  JobReply reply;
  reply.job_id = job_id;
  reply.ok = false;
  reply.reason = error.code;
  reply.detail = error.message;
  return reply;
}

// The gateway folder (INPUT/gateway_<id>) an input file lies in, or empty.
std::filesystem::path gateway_folder_of(const std::filesystem::path& input, const std::string& gateway_id) {
  for (auto folder = input.parent_path(); !folder.empty() && folder != folder.root_path(); folder = folder.parent_path()) {
    if (folder.filename() == "gateway_" + gateway_id) return folder;
  }
  return {};
}

// A positive count in DICOM IS text, else 0.
std::int64_t count_of(const std::string& text) {
  try {
    std::size_t used = 0;
    const long long value = std::stoll(text, &used);
    return value > 0 && value < 1000000 ? value : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// Cross-checks the instance against the gateway's own image.db when there is one: a different study or series
// there means the gateway and the file disagree, which an operator should hear about. Never blocks the image.
// Returns the series' NumberOfSeriesRelatedInstances there (the gateway knows the whole series), 0 when unknown.
std::int64_t cross_check_with_gateway_index(const JobRequest& request, const dicom::InstanceIdentity& source) {
  const auto folder = gateway_folder_of(request.input, request.gateway_id);
  if (folder.empty() || !std::filesystem::exists(folder / "image.db")) return 0;
  auto index = catalog::Catalog::open_read_only(folder / "image.db");
  if (!index) {
    logger()->debug("gw={} job={} gateway image.db not readable: {}", request.gateway_id, request.job_id, index.error().describe());
    return 0;
  }
  auto entry = index.value()->find_image(source.sop_instance_uid);
  if (!entry || !entry->has_value()) {
    logger()->debug("gw={} job={} sop={} not in the gateway's image.db", request.gateway_id, request.job_id, source.sop_instance_uid);
    return 0;
  }
  const auto value_of = [](const auto& columns, const std::string& name) {
    for (const auto& [column, value] : columns) {
      if (column == name) return value;
    }
    return std::string();
  };
  const std::string study = value_of(entry->value().study, "StudyInstanceUID");
  const std::string series = value_of(entry->value().series, "SeriesInstanceUID");
  if ((!study.empty() && study != source.study_instance_uid) || (!series.empty() && series != source.series_instance_uid)) {
    logger()->warn("gw={} job={} sop={} the gateway's image.db lists another study or series for this instance",
                   request.gateway_id, request.job_id, source.sop_instance_uid);
    return 0;
  }
  return count_of(value_of(entry->value().series, "NumberOfSeriesRelatedInstances"));
}

// How many instances the series should have: the gateway's index, else what the data set says about itself
// (PS3.3 C.7.6.1: ImagesInAcquisition counts one acquisition, which is the whole series for most CT and MR).
std::int64_t expected_in_series(std::int64_t from_gateway_index, const dicom::Instance& instance) {
  if (from_gateway_index > 0) return from_gateway_index;
  if (const auto related = count_of(instance.string_of(DCM_NumberOfSeriesRelatedInstances)); related > 0) return related;
  return count_of(instance.string_of(DCM_ImagesInAcquisition));
}

// An SCP arrival also appears in INPUT/gateway_<id>/<StudyUID>/<SOPUID> (validated UIDs only), like a gateway's
// drop. The spool file is complete and durable, so a hard link publishes it atomically with no copy; only the new
// directory entry needs an fsync, which the node does. Across file systems the bytes are copied through an atomic write instead. The
// folder door sees the new name and records a duplicate; the node adds the image.db row (batched).
Result<std::filesystem::path> mirror_into_input(const JobRequest& request, const dicom::InstanceIdentity& identity) {
  const auto folder = request.mirror_root / identity.study_instance_uid;
  const auto target = folder / identity.sop_instance_uid;
  std::error_code ec;
  if (std::filesystem::exists(target, ec)) return target;
  if (Status made = fs::create_directories_durably(folder); !made) return made.error();
  std::filesystem::create_hard_link(request.input, target, ec);
  if (!ec) return target;  // the node syncs the folder before it records the mirror
  const auto temp = fs::temp_path_for(target);
  std::filesystem::copy_file(request.input, temp, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) return make_error("io_error", "cannot copy the received file to " + temp.string() + ": " + ec.message());
  if (Status committed = fs::commit_file(temp, target); !committed) return committed.error();
  return target;
}

JobReply handle(process::ProcessingChain& chain, const JobRequest& request, config::OutputStudy study) {
  auto instance = dicom::Instance::load(request.input);
  if (!instance) return failure(request.job_id, instance.error());
  std::filesystem::path mirrored;
  catalog::CatalogRecord mirror_entry;
  if (!request.mirror_root.empty()) {
    auto placed = mirror_into_input(request, instance->identity());
    if (!placed) return failure(request.job_id, placed.error());
    mirrored = placed.value();
    // Read before processing changes the data set: the INPUT index describes the image as received.
    mirror_entry = catalog::record_from_dataset(instance->dataset(), mirrored);
  }
  const std::int64_t expected = expected_in_series(cross_check_with_gateway_index(request, instance->identity()),
                                                   instance.value());
  auto processed = chain.run(instance.value(), study);
  if (!processed) return failure(request.job_id, processed.error());
  const output::OutputWriter writer(request.output_root, request.layout);
  // The node makes the result durable and visible (fsync, rename, folder fsync) before it records it: the waits
  // for the disk overlap with this worker's next job, and results finishing together share a folder fsync.
  auto staged = writer.stage(instance.value(), processed->result);
  if (!staged) return failure(request.job_id, staged.error());

  JobReply reply;
  reply.job_id = request.job_id;
  reply.ok = true;
  reply.output = staged->final_path;
  reply.staged_output = staged->temp;
  reply.source = processed->source;
  reply.result = processed->result;
  reply.mirrored_input = mirrored;
  reply.mirror_catalog_entry = std::move(mirror_entry);
  reply.inference_us = static_cast<std::int64_t>(processed->inference_ms * 1000.0);
  reply.expected_in_series = expected;
  // The node writes OUTPUT/gateway_<id>/image.db in batches (one commit for many results); the worker, which has
  // the data set parsed, supplies the row. The gateways keep each file's path in PrivateCreator; so do we.
  reply.catalog_entry = catalog::record_from_dataset(instance->dataset(), staged->final_path);
  return reply;
}

}  // namespace

int run_worker_loop(const config::NodeConfig& config, int in_fd, int out_fd) {
  apply_limits(config.processing);
  const dicom::DcmtkRuntime runtime;
  if (Status ready = runtime.check(); !ready) {
    logger()->critical("worker cannot start: {}", ready.error().describe());
    return 3;
  }
  auto chain = process::ProcessingChain::build(config.processing, config.inference);
  if (!chain) {
    logger()->critical("worker cannot build the processing chain: {}", chain.error().describe());
    return 2;
  }
  if (!write_all(out_fd, encode_ready(static_cast<long>(::getpid())))) return 1;

  std::string buffer;
  std::string line;
  while (read_line(in_fd, buffer, line)) {
    auto request = decode_request(line);
    if (!request) {
      logger()->error("worker: bad request: {}", request.error().describe());
      return 1;
    }
    JobReply reply;
    try {
      const config::GatewayConfig* gateway = config.find_gateway(request->gateway_id);
      reply = handle(chain.value(), request.value(), gateway != nullptr ? gateway->output_study : config.output_study);
    } catch (const std::bad_alloc&) {
      reply = failure(request->job_id, make_error("out_of_memory", "the image needs more memory than the worker limit"));
    } catch (const std::exception& e) {
      reply = failure(request->job_id, make_error("internal_error", e.what()));
    }
    if (!write_all(out_fd, encode_reply(reply))) return 1;
  }
  return 0;
}

}  // namespace creni::pipeline
