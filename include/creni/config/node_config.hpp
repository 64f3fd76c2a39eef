#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/http_config.hpp"
#include "creni/config/retention_config.hpp"

/// Plain configuration values. Each component receives its slice by value or const&; nothing here is global.
/// The TOML keys named in comments are the contract with users and scripts (conf/creni-node.toml documents them).
namespace creni::config {

/// DICOM TLS settings (dcmtls, BCP 195 non-downgrading profile).
struct TlsConfig {
  bool enabled = false;                       ///< tls.enabled
  std::filesystem::path certificate;          ///< tls.certificate (PEM)
  std::filesystem::path private_key;          ///< tls.private_key (PEM, unencrypted)
  std::vector<std::filesystem::path> trusted_certificates;  ///< tls.trusted_certificates (PEM CA files)
  bool require_peer_certificate = true;       ///< tls.require_peer_certificate
};

/// [[destination]]: a PACS that results are forwarded to.
/// share_association: whether consecutive results of one study going to one destination share an association.
enum class AssociationSharing { none, study };

struct DestinationConfig {
  std::string name;                 ///< name, referenced by [[gateway]].destinations
  std::string host = "127.0.0.1";   ///< host
  std::uint16_t port = 104;         ///< port
  std::string ae_title;             ///< ae_title: the PACS's (called) AE title
  std::string calling_ae_title;     ///< calling_ae_title: ours; empty = [node].ae_title
  int connect_timeout_s = 10;       ///< connect_timeout_s
  int acse_timeout_s = 30;          ///< acse_timeout_s
  int dimse_timeout_s = 60;         ///< dimse_timeout_s
  int max_attempts = 1;             ///< max_attempts: 1 = exactly one attempt (retries only ever for forward_failed)
  int retry_backoff_s = 30;         ///< retry_backoff_s: first back-off, doubled per attempt, with jitter
  /// share_association: "none" (one association per result) or "study" (results of one study sent back to back
  /// share one; each is still its own recorded attempt)
  AssociationSharing share_association = AssociationSharing::none;
  TlsConfig tls;                    ///< [destination.tls]
};

enum class OutputLayout { nested, flat };

/// What happens to objects without pixel data ([processing] non_image, or per gateway).
enum class NonImagePolicy { reject, pass, ignore };

/// [output] study: where results live. "derived": a new study (UIDs derived from the original study's), the
/// default; "original": new series inside the original study, next to the images a reader opens.
enum class OutputStudy { derived, original };

/// [series] late: what an instance that arrives after its series was completed starts. "reopen": a new series run
/// with everything received so far; "separate": a run of the late instances only. Never dropped.
enum class LatePolicy { reopen, separate };


/// [scp]: the network door.
struct ScpConfig {
  bool enabled = true;                   ///< enabled
  std::string bind = "0.0.0.0";          ///< bind: IPv4 or IPv6 address ("::" = every interface) or a host name
  std::uint16_t port = 11112;            ///< port
  int max_associations = 16;             ///< max_associations: beyond it, A-ASSOCIATE-RJ transient
  int max_associations_per_peer = 8;     ///< max_associations_per_peer: per calling AE title and per address
  int inactivity_timeout_s = 60;         ///< inactivity_timeout_s: longest time without a complete DIMSE message
  int min_transfer_rate_kib_s = 8;       ///< min_transfer_rate_kib_s: slowest data set transfer tolerated (KiB/s)
  int min_transfer_rate_grace_s = 10;    ///< min_transfer_rate_grace_s: window over which that rate is measured
  std::uint64_t max_dataset_mb = 2048;   ///< max_dataset_mb: largest data set received (MiB); bigger -> 0xA700
  int tls_handshake_timeout_s = 10;      ///< tls_handshake_timeout_s: a TLS handshake must finish within this
  int acse_timeout_s = 30;               ///< acse_timeout_s
  int dimse_timeout_s = 60;              ///< dimse_timeout_s
  std::uint32_t max_pdu = 131072;        ///< max_pdu: our maximum receive PDU size
  std::string default_gateway;           ///< default_gateway: gateway id for unknown calling AEs; empty = reject
  std::uint16_t tls_port = 0;            ///< tls_port: 0 = no TLS listener
  TlsConfig tls;                         ///< [scp.tls]
};

enum class InputDisposition { keep, remove, archive };

/// [input]: the folder door.
struct InputConfig {
  bool enabled = true;                   ///< enabled
  int stability_ms = 1000;               ///< stability_ms: a file found by scanning (no close event seen) is taken
                                         ///< once it has not been modified for this long
  int settle_ms = 20;                    ///< settle_ms: a file closed after writing or moved in is taken once it has
                                         ///< not been modified for this long (a writer that reopens it resets it)
  int rescan_interval_s = 30;            ///< rescan_interval_s: full rescan for missed events
  InputDisposition after_processing = InputDisposition::keep;  ///< after_processing: "keep", "delete", "archive"
  bool discover_gateways = true;         ///< discover_gateways: watch every INPUT/gateway_<id>/ even if not configured
};

/// [processing]: the processing chain.
struct ProcessingConfig {
  std::string marker = "ScreenedByAI";                  ///< marker: appended to descriptions and burned in
  std::vector<std::string> steps = {"describe", "burn_in"};  ///< steps: ordered names ("describe", "burn_in", ...)
  std::uint64_t max_image_bytes = 1ULL << 30;           ///< max_image_bytes: cap on declared pixel data size
  /// non_image: objects without pixel data (SR, KO, RT, private non-image classes): "reject" (rejected, reason
  /// not_an_image), "pass" (written and forwarded with only descriptions and UIDs changed) or "ignore" (nothing
  /// stored or forwarded; recorded as rejected with reason "ignored", no quarantine copy)
  NonImagePolicy non_image = NonImagePolicy::reject;
  int job_timeout_s = 60;                               ///< job_timeout_s: wall-clock limit per job in a worker
  int io_retry_s = 30;  ///< io_retry_s: a job that failed on the machine's side (disk full, OUTPUT not writable) waits this long, then runs again
  std::uint64_t worker_memory_mb = 4096;                ///< worker_memory_mb: address-space limit of a worker
};

enum class InferenceTask { classification, segmentation };
enum class ValueMapping { window, fixed_window, raw };
enum class TensorLayout { nchw, nhwc };
enum class FrameSelection { all, first, middle };

/// [inference.external]: step "external", a separately installed module run once per image (argv, never a shell).
struct ExternalModuleConfig {
  std::vector<std::string> command;     ///< command: argv; [0] an absolute path. Three paths are appended: the
                                        ///< input file, the output file and the settings JSON file
  int timeout_s = 0;                    ///< timeout_s: wall-clock limit per image; 0 = processing.job_timeout_s
  std::uint64_t memory_mb = 0;          ///< memory_mb: address-space limit (RLIMIT_AS); 0 = processing.worker_memory_mb
  std::vector<std::string> environment; ///< environment: extra "NAME=value" entries of its otherwise clean environment
  std::vector<std::pair<std::string, std::string>> parameters;  ///< parameters: string table passed in the settings file
};


/// [inference]: the AI step "infer" (an ONNX model run by OpenCV DNN) and the "external" step.
struct InferenceConfig {
  std::filesystem::path model;              ///< model: ONNX file (required by step "infer")
  int input_width = 224;                    ///< input_size[0]: width the model expects
  int input_height = 224;                   ///< input_size[1]: height the model expects
  int channels = 1;                         ///< channels: 1 (gray) or 3 (RGB order)
  TensorLayout layout = TensorLayout::nchw; ///< layout: "nchw" or "nhwc" of the model input
  ValueMapping mapping = ValueMapping::window;  ///< mapping: "window", "fixed_window" or "raw"
  double window_center = 40.0;              ///< window_center: for mapping "fixed_window", in modality units
  double window_width = 400.0;              ///< window_width: for mapping "fixed_window", at least 1
  double scale = 1.0;                       ///< scale: for mapping "raw", model value = stored value * scale
  std::vector<double> mean = {0.0};         ///< mean: subtracted after mapping; one value or one per channel
  std::vector<double> stddev = {1.0};       ///< std: divides after the mean; one value or one per channel
  InferenceTask task = InferenceTask::classification;  ///< task: "classification" or "segmentation"
  std::vector<std::string> labels;          ///< labels: one per output score (classification) or mask channel
  double threshold = 0.5;                   ///< threshold: classification scores at or above it are findings
  double mask_threshold = 0.5;              ///< mask_threshold: segmentation values above it are inside the mask
  std::string output;                       ///< output: output tensor name; "" = the model's first output
  FrameSelection frames = FrameSelection::all;  ///< frames: "all", "first" or "middle" of a multi-frame image
  int threads = 1;                          ///< threads: OpenCV threads per worker; 0 = OpenCV's default
  std::string algorithm_name;               ///< algorithm_name: provenance; "" = the model file's stem
  std::string algorithm_version;            ///< algorithm_version: provenance; "" = "unversioned"
  ExternalModuleConfig external;            ///< [inference.external]
};

/// [series.infer] layout: how the stack of slices is laid out as the model's input. "ncdhw": 1 x C x D x H x W (a
/// 3D model; C = channels); "ndhw": 1 x D x H x W (the slices as the channels of a 2D model).
enum class StackLayout { ncdhw, ndhw };

/// [series.infer]: the series step "infer", an ONNX model (OpenCV DNN) that looks at the whole series as a stack of
/// slices, run in a contained process. `model` holds the keys it shares with [inference], with the same meaning:
/// model, input_size, channels, mapping, window_center, window_width, scale, mean, std, labels, threshold, output,
/// threads, algorithm_name, algorithm_version (task is always classification; frames: each instance's first frame).
struct SeriesInferConfig {
  InferenceConfig model;                     ///< the keys shared with [inference]
  StackLayout layout = StackLayout::ncdhw;   ///< layout: "ncdhw" or "ndhw"
  int depth = 0;                             ///< depth: slices the model gets (the stack is resampled to it); 0 = the
                                             ///< model's declared depth, or the series' own count when it is symbolic
  int timeout_s = 0;                         ///< timeout_s: wall-clock limit per run; 0 = processing.job_timeout_s
  std::uint64_t memory_mb = 0;               ///< memory_mb: address-space limit; 0 = processing.worker_memory_mb
};

/// [series] (and a gateway's own [gateway.series], which overrides it key by key): when a series is complete and
/// what runs on it. Series are tracked and reported only where a [series] table applies (`enabled`).
struct SeriesConfig {
  bool enabled = false;                  ///< true where a [series] or [gateway.series] table is present
  double idle_s = 5.0;                   ///< idle: seconds without a new instance after which a series is complete
  double max_wait_s = 600.0;             ///< max_wait: seconds after its first instance a series is complete at the latest
  bool complete_on_release = false;      ///< complete_on_release: complete once the association that carried it ended
  LatePolicy late = LatePolicy::reopen;  ///< late: "reopen" or "separate"
  std::vector<std::string> steps;        ///< steps: series-level steps ("external", "infer"); default ["external"] when
                                         ///< [series.external] names a command, else [] (a report of the instances)
  ExternalModuleConfig external;         ///< [series.external]: same keys as [inference.external]
  SeriesInferConfig infer;               ///< [series.infer]: the series step "infer"
};

/// [[gateway]]: one sending site; its folder is INPUT/gateway_<id>/ and its results go to OUTPUT/gateway_<id>/.
struct GatewayConfig {
  std::string id;                                ///< id: digits, letters, '-' and '_' only (it names folders)
  std::vector<std::string> calling_ae_titles;    ///< calling_ae_titles: SCP associations from these map here
  std::vector<std::string> called_ae_titles;     ///< called_ae_titles: optional; empty = [node].ae_title only
  std::vector<std::string> allowed_addresses;    ///< allowed_addresses: optional peer IP allow-list
  OutputLayout output_layout = OutputLayout::nested;  ///< output_layout: "nested" or "flat"
  std::vector<std::string> destinations;         ///< destinations: names of [[destination]]; empty = none
  OutputStudy output_study = OutputStudy::derived;  ///< [gateway.output] study, else [output] study
  SeriesConfig series;                           ///< [series] with this gateway's [gateway.series] overrides applied
  std::optional<NonImagePolicy> non_image;       ///< non_image: this gateway's policy; absent = [processing] non_image
  std::optional<RetentionLimits> retention;      ///< [gateway.retention]: nullopt = [retention] as it is
};

/// The whole node ([node] plus every table).
struct NodeConfig {
  std::string ae_title = "CRENI";                 ///< [node] ae_title
  std::filesystem::path input_dir = "INPUT";      ///< [node] input_dir
  std::filesystem::path output_dir = "OUTPUT";    ///< [node] output_dir
  std::filesystem::path state_dir = "state";      ///< [node] state_dir: journal, spool, quarantine
  int workers = 0;                                ///< [node] workers: 0 = one per core
  std::uint64_t min_free_mb = 512;                ///< [node] min_free_mb: low-watermark for spool/output
  bool quarantine = true;                         ///< [node] quarantine: keep a copy of rejected inputs
  std::string log_level = "info";                 ///< [node] log_level

  ScpConfig scp;
  InputConfig input;
  ProcessingConfig processing;
  InferenceConfig inference;
  HttpConfig http;
  std::vector<GatewayConfig> gateways;
  std::vector<DestinationConfig> destinations;
  OutputStudy output_study = OutputStudy::derived;  ///< [output] study: the default of every gateway
  SeriesConfig series;                              ///< [series]: the default of every gateway
  RetentionConfig retention;                      ///< [retention]

  /// The retention limits of this gateway: its [gateway.retention] when it has one, else [retention]'s.
  [[nodiscard]] const RetentionLimits& retention_for(const std::string& gateway_id) const;
  /// The gateway with this id, or nullptr.
  [[nodiscard]] const GatewayConfig* find_gateway(const std::string& id) const;
  /// The non-image policy of a gateway: its own non_image, else [processing] non_image (also for unknown ids).
  [[nodiscard]] NonImagePolicy non_image_for(const std::string& gateway_id) const;
  /// The destination with this name, or nullptr.
  [[nodiscard]] const DestinationConfig* find_destination(const std::string& name) const;
};

/// Checks values against each other (ranges, references between tables, AE title rules, unique ids); the error
/// message names the key, e.g. "gateway[0].destinations: unknown destination 'pacs2'". Error code "invalid_config".
[[nodiscard]] Status validate(const NodeConfig& config);

/// True when `ae_title` is a valid AE title: 1-16 characters of the default repertoire, not only spaces, no
/// backslash or control characters (PS3.5 section 6.2, AE).
[[nodiscard]] bool is_valid_ae_title(const std::string& ae_title);

/// True when `id` may name a gateway folder: 1-32 of [A-Za-z0-9_-].
[[nodiscard]] bool is_valid_gateway_id(const std::string& id);

/// A destination host: an IPv4 or IPv6 address (IPv6 also in brackets, "[::1]") or a host name (RFC 1123 labels).
/// Says nothing about whether a name resolves: that is found out (and recorded) when forwarding.
[[nodiscard]] bool is_valid_host(const std::string& host);

}  // namespace creni::config
