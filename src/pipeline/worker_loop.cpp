#include "creni/pipeline/worker_loop.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <dcmtk/dcmdata/dcdeftag.h>

#include "creni/catalog/catalog.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/common/content_hash.hpp"
#include "creni/common/directory.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/identity_check.hpp"
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

bool write_all(int fd, const std::string& text) { return fs::write_all(fd, text.data(), text.size()); }

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
  std::error_code ec;
  const auto kind = std::filesystem::symlink_status(folder / "image.db", ec).type();
  if (folder.empty() || kind == std::filesystem::file_type::not_found) return 0;
  if (kind != std::filesystem::file_type::regular) {
    // A FIFO would block SQLite's open forever (and a link could name any file): never opened.
    logger()->warn("gw={} job={} the gateway's image.db is not a regular file: not read", request.gateway_id,
                   request.job_id);
    return 0;
  }
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

// Whether the file `name` in `folder` holds the very bytes of `input`: the same file (a hard link made earlier,
// before a crash or a reprocess) or an identical copy.
bool holds_same_bytes(const fs::Directory& folder, const std::string& name, const std::filesystem::path& input) {
  struct stat there {};
  struct stat here {};
  if (::fstatat(folder.fd(), name.c_str(), &there, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(there.st_mode)) return false;
  if (::stat(input.c_str(), &here) == 0 && here.st_dev == there.st_dev && here.st_ino == there.st_ino) return true;
  const auto theirs = sha256_of_file(folder.path() / name);
  const auto ours = sha256_of_file(input);
  return theirs && ours && theirs.value() == ours.value();
}

// An SCP arrival also appears in INPUT/gateway_<id>/<StudyUID>/<SOPUID> (validated UIDs only), like a gateway's
// drop. The spool file is complete and durable, so a hard link publishes it atomically with no copy; only the new
// directory entry needs an fsync, which the node does. Across file systems the bytes are copied (temporary file,
// fsync, rename). Nothing in INPUT is followed or replaced: the study folder is opened without following a link,
// and a name that already holds other bytes is left alone. The folder door knows the link as the node's own
// (the pipeline told it the spool file's inode before sending the job) and leaves it; the node adds the image.db
// row (batched). Error "mirror_refused" when the received bytes cannot be
// placed there without following a link or replacing another file: the image is processed all the same and stays
// in the spool.
std::filesystem::path mirror_target(const JobRequest& request, const dicom::InstanceIdentity& identity) {
  return request.mirror_root / identity.study_instance_uid / identity.sop_instance_uid;
}

Result<std::filesystem::path> mirror_into_input(const JobRequest& request, const dicom::InstanceIdentity& identity,
                                                bool again = true) {
  // INPUT/gateway_<id> itself is not followed if it is a link either.
  auto folder = fs::Directory::open_beneath(request.mirror_root.parent_path(),
                                            request.mirror_root.filename() / identity.study_instance_uid,
                                            /*create=*/true);
  if (!folder) {
    if (folder.error().code == "io_error") return folder.error();
    return make_error("mirror_refused", folder.error().message);
  }
  const std::string& name = identity.sop_instance_uid;
  const auto target = folder->path() / name;
  Status placed = folder->link_from(request.input, name);
  if (!placed && placed.error().code == "cross_device") {
    auto source = fs::Directory::open_root(request.input.parent_path(), false);
    auto input = source ? source->open_regular_file(request.input.filename().string()) : Result<fs::OwnedFd>(source.error());
    placed = input ? folder->copy_in(input->get(), name) : Status(input.error());
  }
  if (placed) return target;  // the node syncs the folder before it records the mirror
  // The retention sweep removes a study folder it emptied: gone between opening and linking, it is made again.
  std::error_code ec;
  if (again && placed.error().code == "io_error" && !std::filesystem::exists(folder->path(), ec)) {
    return mirror_into_input(request, identity, false);
  }
  if (placed.error().code != "exists") return placed.error();
  if (holds_same_bytes(*folder, name, request.input)) return target;
  return make_error("mirror_refused", target.string() + " already holds another file: left as it is");
}

// The bytes parsed must be the bytes that arrived, and every identity the job was announced under must be the
// data set's own: otherwise nothing is written (PS3.10 section 7.1, PS3.4 section B.2.3).
Status check_taken_input(const JobRequest& request, const dicom::Instance& instance) {
  if (!request.expected_content_hash.empty() && instance.content_hash() != request.expected_content_hash) {
    return make_error("input_changed", request.input.string() + " changed since it arrived (data set SHA-256 " +
                                           request.expected_content_hash + " then, " + instance.content_hash() +
                                           " now): not processed");
  }
  // The journal's UID came from the C-STORE command for a network arrival, from the meta header for a file.
  return dicom::check_identity(instance, request.expected_sop_instance_uid,
                               request.mirror_root.empty() ? "meta header" : "C-STORE command");
}

JobReply handle(process::ProcessingChain& chain, const JobRequest& request, const config::NodeConfig& config) {
  auto instance = dicom::Instance::load(request.input);
  if (!instance) return failure(request.job_id, instance.error());
  if (Status taken = check_taken_input(request, instance.value()); !taken) return failure(request.job_id, taken.error());
  std::filesystem::path mirrored;
  catalog::CatalogRecord mirror_entry;
  const dicom::InstanceIdentity received = instance->identity();
  if (!request.mirror_root.empty()) {
    // Read before processing changes the data set: the INPUT index describes the image as received.
    mirror_entry = catalog::record_from_dataset(instance->dataset(), mirror_target(request, received));
  }
  const std::int64_t expected = expected_in_series(cross_check_with_gateway_index(request, received), instance.value());
  const config::GatewayConfig* gateway = config.find_gateway(request.gateway_id);
  auto processed = chain.run(instance.value(), config.non_image_for(request.gateway_id),
                             gateway != nullptr ? gateway->output_study : config.output_study);
  if (!processed) return failure(request.job_id, processed.error());
  if (!request.mirror_root.empty()) {
    // Only an image that is processed appears in INPUT: a rejected C-STORE is kept once, in quarantine, and never
    // where the folder door would take it as a new arrival.
    auto placed = mirror_into_input(request, received);
    if (placed) {
      mirrored = placed.value();
    } else if (placed.error().code == "mirror_refused") {
      logger()->warn("gw={} job={} sop={} not mirrored into INPUT: {}", request.gateway_id, request.job_id,
                     received.sop_instance_uid, placed.error().message);
      mirror_entry = {};
    } else {
      return failure(request.job_id, placed.error());
    }
  }
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
      reply = handle(chain.value(), request.value(), config);
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
