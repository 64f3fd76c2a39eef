#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/ingest/arrival_sink.hpp"
#include "creni/metrics/scp_metrics.hpp"

namespace creni::ingest {

/// What the network door listens on, whom it admits and where it spools.
struct StorageScpOptions {
  std::string ae_title = "CRENI";               ///< our AE title ([node] ae_title): the called AE gateways must use
  std::string bind_address = "0.0.0.0";         ///< IPv4/IPv6 address or host name to listen on ("::" = all)
  std::uint16_t port = 11112;                   ///< 0 = any free port (see StorageScp::port())
  int max_associations = 16;                    ///< served at once; beyond it, A-ASSOCIATE-RJ transient
  int max_associations_per_peer = 8;            ///< per address and per calling AE title; beyond it, RJ transient
  int inactivity_timeout_s = 60;                ///< abort an association with no complete DIMSE message this long
  std::uint64_t min_transfer_rate = 8 * 1024;   ///< bytes/s a data set must average over each grace window; 0 = off
  int min_transfer_rate_grace_s = 10;           ///< that window (the first one starts with the data set)
  std::uint64_t max_dataset_bytes = 2048ULL << 20;  ///< larger data sets: 0xA700, nothing kept
  int tls_handshake_timeout_s = 10;             ///< a TLS client must finish its handshake within this
  int acse_timeout_s = 30;                      ///< association set-up and release; also a silent peer's grace
  int dimse_timeout_s = 60;                     ///< longest wait for the next command or data set fragment
  std::uint32_t max_pdu = 131072;               ///< our maximum receive PDU (clamped to DCMTK's 4 KiB..128 KiB)
  std::filesystem::path spool_dir;              ///< where data sets are received (state/spool); created by start()
  std::vector<config::GatewayConfig> gateways;  ///< calling/called AE titles and addresses per gateway
  std::string default_gateway;                  ///< gateway for unknown calling AE titles; "" = reject them
  std::uint16_t tls_port = 0;                   ///< 0 = no DICOM TLS port; else also listen with TLS here
  config::TlsConfig tls;                        ///< certificate, key, trusted CAs for the TLS port
  std::shared_ptr<metrics::ScpMetrics> metrics;  ///< counts associations by how they ended; may be null
  /// [processing] non_image; with each gateway's own non_image, whether an association also accepts
  /// dicom::private_non_image_sop_class_uids() (not with "reject")
  config::NonImagePolicy non_image = config::NonImagePolicy::reject;
};

/// The options for `config`'s [scp] table, AE title, gateways and `<state_dir>/spool`.
[[nodiscard]] StorageScpOptions storage_scp_options(const config::NodeConfig& config);

/// The network door: a C-ECHO and C-STORE SCP (issue 4). Owns its accept loop ("scp-accept": non-blocking listening
/// socket, poll) and a fixed pool of max_associations workers ("scp-<n>"). A connection reaches DCMTK only once its
/// whole A-ASSOCIATE-RQ PDU (at most 64 KiB) has arrived within acse_timeout_s, so silent, trickling or non-DICOM
/// peers cost nothing but a file descriptor and never delay anyone else; bytes that are not an A-ASSOCIATE-RQ
/// close the connection at once. With every worker busy, a new association is answered A-ASSOCIATE-RJ transient
/// (local limit exceeded).
///
/// Each association is mapped to a gateway (AssociationAdmission: unknown calling AE title -> rejected permanent,
/// reason 3; unknown called AE title -> reason 7) and accepts Verification plus every storage SOP class with the
/// first transfer syntax the sender proposes among dicom::storage_transfer_syntax_uids(). Each C-STORE data set is
/// received byte for byte into `spool_dir/<unique>.creni-tmp` (never parsed), its own SOP Class/Instance UIDs are
/// checked against the command's (mismatch -> 0xA900), it is published as `<unique>.dcm` (fsync, rename, fsync
/// of the directory) and given to ArrivalSink::accept(); the C-STORE response is dimse_status_for(result).
/// The sink owns the file after accepted/duplicate/conflict; otherwise the door removes it. While
/// `intake_paused()` is true, data sets are discarded and answered 0xA700. An association that ends early keeps
/// every image already acknowledged and leaves no temporary file.
///
/// Thread-safety: start() and stop() from one controlling thread; port() and active_associations() from any
/// thread. `sink` and `intake_paused` are called from the worker threads concurrently and must outlive stop().
/// DCMTK's process-wide settings it relies on: the data dictionary, no reverse DNS lookup (set by start()).
/// Total deadlines (AssociationWatchdog): an association that completes no DIMSE message for inactivity_timeout_s,
/// or whose data set arrives slower than min_transfer_rate over any min_transfer_rate_grace_s window, is aborted
/// with a log line naming the peer. One address or calling AE title holds at most max_associations_per_peer
/// workers. A data set larger than max_dataset_bytes is not kept (the spool file is emptied as soon as it grows
/// past the limit) and answered 0xA700. Messages a peer can cause per connection are rate-limited (LogThrottle).
/// IPv4 and IPv6 (bind "::" takes both where the system allows it). With tls_port set, a second port accepts DICOM TLS (BCP 195 non-downgrading): connections are
/// decrypted by a TlsTerminator and then go through the same intake, admission and sessions as plain ones.
class StorageScp {
 public:
  StorageScp(StorageScpOptions options, ArrivalSink& sink, std::function<bool()> intake_paused = {});
  /// Calls stop().
  ~StorageScp();
  StorageScp(const StorageScp&) = delete;
  StorageScp& operator=(const StorageScp&) = delete;

  /// Creates the spool folder, binds and starts the threads. Errors: "invalid_config" (bind address unresolvable or
  /// not this host's), "bind_failed" (port in use and the like; the message names address:port),
  /// "io_error" (spool folder), "dcmtk_error" (DCMTK network set-up), "invalid_options".
  [[nodiscard]] Status start();

  /// Stops accepting, closes connections still waiting for their A-ASSOCIATE-RQ, lets associations finish the
  /// C-STORE in progress for a short grace period, then aborts the rest, and joins every thread. Bounded (a few
  /// seconds). Idempotent.
  void stop();

  /// The port actually bound (useful with options.port = 0); 0 before start().
  [[nodiscard]] std::uint16_t port() const;
  /// The TLS port actually bound; 0 without TLS or before start().
  [[nodiscard]] std::uint16_t tls_port() const;

  /// Associations being served or waiting for a free worker right now.
  [[nodiscard]] int active_associations() const;

  /// C-STORE data sets acknowledged with a success status since start().
  [[nodiscard]] std::uint64_t images_stored() const;

 private:
  class Runtime;

  StorageScpOptions options_;
  ArrivalSink& sink_;
  std::function<bool()> intake_paused_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace creni::ingest
