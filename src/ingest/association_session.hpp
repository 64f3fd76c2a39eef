#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dimse.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "creni/common/folder_syncer.hpp"
#include "creni/common/result.hpp"
#include "creni/ingest/arrival_sink.hpp"
#include "creni/ingest/association_admission.hpp"
#include "creni/ingest/storage_scp.hpp"
#include "acceptor_network.hpp"
#include "association_watchdog.hpp"
#include "log_throttle.hpp"
#include "spool_pool.hpp"

namespace creni::ingest {

/// What every session of one StorageScp shares. Sessions only read it, apart from the counters.
struct ScpShared {
  StorageScpOptions options;
  AssociationAdmission admission;
  ArrivalSink& sink;
  std::function<bool()> intake_paused;
  AcceptorNetwork* network = nullptr;
  std::atomic<bool> stopping{false};
  std::atomic<std::uint64_t> images_stored{0};
  std::atomic<std::uint64_t> associations_started{0};  // numbers each session's association id
  fs::FolderSyncer spool_folder{};  // new spool entries made durable, one fsync shared by concurrent associations
  SpoolPool* spool_pool = nullptr;  // spool files with durable names; null: each C-STORE creates its own
  LogThrottle* throttle = nullptr;         // per-connection log lines; null = unthrottled
  AssociationWatchdog* watchdog = nullptr;  // total deadlines; null = none
};

/// One association from its A-ASSOCIATE-RQ (already buffered in `socket`) to release or abort: hands the socket
/// to DCMTK under the process-wide lock, admits or rejects, negotiates, serves C-ECHO and C-STORE until the peer
/// releases, aborts, falls silent for dimse_timeout_s, is aborted by the watchdog (inactivity, transfer rate) or the
/// SCP stops, and writes one log line (rate-limited for associations that were refused or aborted). A fresh object
/// per association; run() on one worker thread, never throws. `socket` stays owned by the caller, who may
/// shutdown() it to end a session early.
class AssociationSession {
 public:
  /// `calling_ae_hint` (as the intake peeked it) only labels the association for the watchdog's log.
  AssociationSession(ScpShared& shared, int socket, std::string peer_address, const std::string& calling_ae_hint = "");
  ~AssociationSession();
  AssociationSession(const AssociationSession&) = delete;
  AssociationSession& operator=(const AssociationSession&) = delete;

  void run() noexcept;

 private:
  enum class Wait { command, idle_timeout, stopping };

  void serve();
  bool receive_association();
  bool admit();
  void negotiate();
  void serve_commands();
  [[nodiscard]] Wait wait_for_command() const;
  void answer_echo(T_ASC_PresentationContextID context_id, const T_DIMSE_C_EchoRQ& request);
  bool answer_store(T_ASC_PresentationContextID context_id, const T_DIMSE_C_StoreRQ& request);
  void reject(T_ASC_RejectParametersResult result, T_ASC_RejectParametersSource source,
              T_ASC_RejectParametersReason reason, const std::string& why);
  void abort(const std::string& why);
  void release_association() noexcept;
  void log_summary() const;

  ScpShared& shared_;
  int socket_;
  std::string peer_address_;
  T_ASC_Association* association_ = nullptr;
  std::string calling_ae_;
  std::string called_ae_;
  std::string gateway_id_;
  int contexts_proposed_ = 0;
  int contexts_accepted_ = 0;
  int images_ok_ = 0;
  int images_failed_ = 0;
  std::string ended_ = "unknown";
  bool admitted_ = false;
  bool peer_closes_next_ = false;  // after A-RELEASE-RP or A-ASSOCIATE-RJ the peer is the one to close
  std::string association_id_;     // "<start time ms>-<n>": unique across restarts, recorded with each arrival
  std::chrono::steady_clock::time_point started_;
  std::shared_ptr<SessionProgress> progress_;  // watched by shared_.watchdog while the session lives
};

/// Log-safe copy of peer-chosen text (AE titles, UIDs): control and non-ASCII bytes become '?'.
[[nodiscard]] std::string printable(const std::string& text);

}  // namespace creni::ingest
