#include "creni/ingest/storage_scp.hpp"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/assoc.h>
#include <dcmtk/dcmnet/dul.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "association_session.hpp"
#include "association_watchdog.hpp"
#include "connection_intake.hpp"
#include "log_throttle.hpp"
#include "peer_shares.hpp"
#include "tls_terminator.hpp"
#include "creni/common/atomic_file.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

namespace {

// How long stop() lets associations finish the C-STORE in progress before cutting their sockets.
constexpr auto kStopGrace = std::chrono::seconds(2);
constexpr int kMaxWorkers = 512;

using detail::logger;  // the module's logger (ingest_logger.hpp)

Status check_options(const StorageScpOptions& options) {
  auto invalid = [](const std::string& what) { return make_error("invalid_options", what); };
  if (options.max_associations < 1 || options.max_associations > kMaxWorkers) {
    return invalid("max_associations must be 1.." + std::to_string(kMaxWorkers));
  }
  if (options.acse_timeout_s < 1 || options.dimse_timeout_s < 1 || options.inactivity_timeout_s < 1 ||
      options.min_transfer_rate_grace_s < 1 || options.tls_handshake_timeout_s < 1) {
    return invalid("timeouts must be at least 1 s");
  }
  if (options.max_associations_per_peer < 1) return invalid("max_associations_per_peer must be at least 1");
  if (options.max_dataset_bytes == 0) return invalid("max_dataset_bytes must be at least 1");
  if (options.spool_dir.empty()) return invalid("spool_dir is empty");
  return {};
}

StorageScpOptions normalized(StorageScpOptions options) {
  options.max_pdu = std::clamp<std::uint32_t>(options.max_pdu, ASC_MINIMUMPDUSIZE, ASC_MAXIMUMPDUSIZE);
  options.max_associations_per_peer = std::min(options.max_associations_per_peer, options.max_associations);
  return options;
}

AssociationWatchdog::Limits watchdog_limits(const StorageScpOptions& options) {
  AssociationWatchdog::Limits limits;
  limits.inactivity = std::chrono::seconds(options.inactivity_timeout_s);
  limits.min_bytes_per_s = options.min_transfer_rate;
  limits.grace = std::chrono::seconds(options.min_transfer_rate_grace_s);
  return limits;
}

}  // namespace

StorageScpOptions storage_scp_options(const config::NodeConfig& config) {
  StorageScpOptions options;
  options.ae_title = config.ae_title;
  options.bind_address = config.scp.bind;
  options.port = config.scp.port;
  options.max_associations = config.scp.max_associations;
  options.max_associations_per_peer = config.scp.max_associations_per_peer;
  options.inactivity_timeout_s = config.scp.inactivity_timeout_s;
  options.min_transfer_rate = static_cast<std::uint64_t>(config.scp.min_transfer_rate_kib_s) * 1024;
  options.min_transfer_rate_grace_s = config.scp.min_transfer_rate_grace_s;
  options.max_dataset_bytes = config.scp.max_dataset_mb << 20;
  options.tls_handshake_timeout_s = config.scp.tls_handshake_timeout_s;
  options.acse_timeout_s = config.scp.acse_timeout_s;
  options.dimse_timeout_s = config.scp.dimse_timeout_s;
  options.max_pdu = config.scp.max_pdu;
  options.spool_dir = config.state_dir / "spool";
  options.gateways = config.gateways;
  options.default_gateway = config.scp.default_gateway;
  options.tls_port = config.scp.tls_port;
  options.tls = config.scp.tls;
  options.non_image = config.processing.non_image;
  return options;
}

/// One started SCP: the intake, the worker pool and what the sessions share.
class StorageScp::Runtime {
 public:
  Runtime(const StorageScpOptions& options, ArrivalSink& sink, std::function<bool()> intake_paused)
      : throttle_(logger()),
        watchdog_(watchdog_limits(options)),
        shared_{options, AssociationAdmission(options.ae_title, options.gateways, options.default_gateway), sink,
                std::move(intake_paused)},
        peers_(options.max_associations_per_peer),
        intake_(
            intake_options(options), [this](ReadyConnection& connection) { return hand_over(connection); },
            throttle_) {
    shared_.throttle = &throttle_;
    shared_.watchdog = &watchdog_;
  }

  ~Runtime() { stop(); }

  Status start();
  void stop();

  [[nodiscard]] std::uint16_t port() const { return intake_.port(); }
  [[nodiscard]] std::uint16_t tls_port() const { return tls_ ? tls_->port() : 0; }
  [[nodiscard]] int in_flight() const { return in_flight_.load(); }
  [[nodiscard]] std::uint64_t images_stored() const { return shared_.images_stored.load(); }

 private:
  static ConnectionIntakeOptions intake_options(const StorageScpOptions& options) {
    ConnectionIntakeOptions intake;
    intake.bind_address = options.bind_address;
    intake.port = options.port;
    intake.rq_timeout = std::chrono::seconds(options.acse_timeout_s);
    return intake;
  }

  std::optional<std::string> hand_over(ReadyConnection& connection);
  void work(int index);
  void serve(ReadyConnection connection);
  void cut_active_sockets();

  LogThrottle throttle_;
  AssociationWatchdog watchdog_;
  ScpShared shared_;
  PeerShares peers_;  // guarded by mutex_
  std::unique_ptr<AcceptorNetwork> network_;
  std::unique_ptr<SpoolPool> spool_pool_;
  ConnectionIntake intake_;
  std::unique_ptr<TlsTerminator> tls_;
  std::mutex mutex_;
  std::condition_variable ready_or_closed_;
  std::condition_variable finished_;
  std::deque<ReadyConnection> ready_;
  std::set<int> active_sockets_;
  bool closed_ = false;
  std::atomic<int> in_flight_{0};  // queued plus being served
  std::vector<std::thread> workers_;
  bool stopped_ = false;
};

Status StorageScp::Runtime::start() {
  const StorageScpOptions& options = shared_.options;
  if (Status made = fs::create_directories_durably(options.spool_dir); !made) return made;
  spool_pool_ = std::make_unique<SpoolPool>(options.spool_dir);
  spool_pool_->start();
  shared_.spool_pool = spool_pool_.get();
  // A reverse DNS lookup per association can stall for the resolver's whole timeout; addresses are enough.
  dcmDisableGethostbyaddr.set(OFTrue);
  auto network = AcceptorNetwork::create(options.acse_timeout_s);
  if (!network) return network.error();
  network_ = std::move(network.value());
  shared_.network = network_.get();
  for (int i = 0; i < options.max_associations; ++i) workers_.emplace_back([this, i] { work(i); });
  if (Status listening = intake_.start(); !listening) return listening;
  logger()->info("storage SCP {} listening on {} port {} ({} associations at most, {} per peer, spool {})",
                 options.ae_title, options.bind_address, intake_.port(), options.max_associations,
                 options.max_associations_per_peer, options.spool_dir.string());
  if (options.tls_port != 0) {
    TlsTerminator::Options tls;
    tls.bind_address = options.bind_address;
    tls.port = options.tls_port;
    tls.tls = options.tls;
    tls.handshake_timeout = std::chrono::seconds(options.tls_handshake_timeout_s);
    tls.max_connections = static_cast<std::size_t>(options.max_associations);
    auto terminator = TlsTerminator::create(
        tls, [this](UniqueFd plaintext, std::string peer) { intake_.adopt(std::move(plaintext), std::move(peer)); },
        throttle_);
    if (!terminator) return terminator.error();
    tls_ = std::move(terminator).value();
    if (Status listening = tls_->start(); !listening) return listening;
  }
  return {};
}

void StorageScp::Runtime::stop() {
  if (stopped_) return;
  stopped_ = true;
  shared_.stopping = true;
  if (tls_) tls_->stop();
  intake_.stop();
  std::unique_lock lock(mutex_);
  closed_ = true;
  ready_or_closed_.notify_all();
  // Idle associations notice the flag within a fraction of a second; give a C-STORE in progress a moment.
  if (!finished_.wait_for(lock, kStopGrace, [this] { return in_flight_.load() == 0; })) {
    logger()->warn("storage SCP stopping: aborting {} association(s) still busy", in_flight_.load());
    cut_active_sockets();
  }
  lock.unlock();
  for (auto& worker : workers_) worker.join();
  workers_.clear();
  network_.reset();
  shared_.network = nullptr;
  shared_.spool_pool = nullptr;
  spool_pool_.reset();
  logger()->info("storage SCP stopped ({} images stored)", shared_.images_stored.load());
}

std::optional<std::string> StorageScp::Runtime::hand_over(ReadyConnection& connection) {
  const std::lock_guard lock(mutex_);
  if (closed_) return std::string("node stopping");
  // A refusal here ends the connection before it becomes an association: counted as "busy" either way.
  if (in_flight_.load() >= shared_.options.max_associations) {
    if (shared_.options.metrics) shared_.options.metrics->association_ended("busy");
    return std::string("all workers busy");
  }
  if (auto refused = peers_.take(connection.peer_address, connection.calling_ae)) {
    if (shared_.options.metrics) shared_.options.metrics->association_ended("busy");
    return refused;
  }
  ready_.push_back(std::move(connection));
  ++in_flight_;
  ready_or_closed_.notify_one();
  return std::nullopt;
}

void StorageScp::Runtime::work(int index) {
  const std::string name = "scp-" + std::to_string(index);
  pthread_setname_np(pthread_self(), name.c_str());
  // Firewall: serve() catches everything a session can throw; this only guards the queue handling itself.
  try {
    while (true) {
      ReadyConnection connection;
      {
        std::unique_lock lock(mutex_);
        ready_or_closed_.wait(lock, [this] { return closed_ || !ready_.empty(); });
        if (ready_.empty()) return;  // closed and drained
        connection = std::move(ready_.front());
        ready_.pop_front();
        active_sockets_.insert(connection.socket.get());
      }
      serve(std::move(connection));
    }
  } catch (...) {
    logger()->critical("scp worker {} stopped on an internal error", name);
  }
}

void StorageScp::Runtime::serve(ReadyConnection connection) {
  const int socket = connection.socket.get();
  try {
    AssociationSession session(shared_, socket, connection.peer_address, connection.calling_ae);
    session.run();
  } catch (...) {
    logger()->error("scp: association from {} ended on an internal error", connection.peer_address);
  }
  {
    // Deregistered before the descriptor is closed, so stop() never shuts down a reused number.
    const std::lock_guard lock(mutex_);
    active_sockets_.erase(socket);
    peers_.give_back(connection.peer_address, connection.calling_ae);
    --in_flight_;
  }
  finished_.notify_all();
}

void StorageScp::Runtime::cut_active_sockets() {
  // Called with mutex_ held. A shutdown wakes every blocking read and write of that association at once.
  for (const int socket : active_sockets_) (void)::shutdown(socket, SHUT_RDWR);
}

std::uint16_t StorageScp::tls_port() const { return runtime_ ? runtime_->tls_port() : 0; }

StorageScp::StorageScp(StorageScpOptions options, ArrivalSink& sink, std::function<bool()> intake_paused)
    : options_(std::move(options)), sink_(sink), intake_paused_(std::move(intake_paused)) {}

StorageScp::~StorageScp() { stop(); }

Status StorageScp::start() {
  if (runtime_ && port() != 0) return {};
  if (Status valid = check_options(options_); !valid) return valid;
  runtime_ = std::make_unique<Runtime>(normalized(options_), sink_, intake_paused_);
  Status started = runtime_->start();
  if (!started) {
    runtime_->stop();
    runtime_.reset();
  }
  return started;
}

void StorageScp::stop() {
  if (runtime_) runtime_->stop();
}

std::uint16_t StorageScp::port() const { return runtime_ ? runtime_->port() : 0; }

int StorageScp::active_associations() const { return runtime_ ? runtime_->in_flight() : 0; }

std::uint64_t StorageScp::images_stored() const { return runtime_ ? runtime_->images_stored() : 0; }

}  // namespace creni::ingest
