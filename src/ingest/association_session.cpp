// One association's life: the worker's firewall, the order of its stages (set-up in association_setup.cpp,
// commands in association_commands.cpp), A-ABORT, release and the summary line.

#include "association_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "creni/common/clock.hpp"
#include "creni/ingest/unknown_syntax_contexts.hpp"
#include "ingest_logger.hpp"

namespace creni::ingest {

using detail::logger;

namespace {

// After A-RELEASE-RP or A-ASSOCIATE-RJ, how long to wait for the peer to close first (avoids TIME_WAIT here).
constexpr int kDropTimeoutS = 1;

void set_timeout(int fd, int option, int seconds) {
  timeval limit{};
  limit.tv_sec = std::max(seconds, 1);
  (void)::setsockopt(fd, SOL_SOCKET, option, &limit, sizeof(limit));
}

// PS3.8 section 9.3.8: A-ABORT, source 0 (service-user), reason 0.
constexpr std::array<std::uint8_t, 10> kAbortPdu = {0x07, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00};

}  // namespace

std::string printable(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7F) c = '?';
  }
  return out;
}

AssociationSession::AssociationSession(ScpShared& shared, int socket, std::string peer_address,
                                       const std::string& calling_ae_hint)
    : shared_(shared),
      socket_(socket),
      peer_address_(std::move(peer_address)),
      association_id_(std::to_string(unix_time_ms()) + "-" + std::to_string(++shared.associations_started)),
      started_(std::chrono::steady_clock::now()) {
  if (shared_.watchdog != nullptr) {
    progress_ = shared_.watchdog->watch(socket_, peer_address_ + " calling=" + printable(calling_ae_hint));
  }
}

AssociationSession::~AssociationSession() {
  release_association();
  if (progress_) shared_.watchdog->forget(progress_);
}

void AssociationSession::run() noexcept {
  // Firewall: nothing from DCMTK, the sink or the file system may take the worker thread down.
  try {
    try {
      serve();
    } catch (const std::exception& e) {
      abort(std::string("internal error: ") + e.what());
    } catch (...) {
      abort("internal error");
    }
  } catch (...) {
    ended_ = "internal error";
  }
  if (progress_ && !progress_->verdict().empty()) ended_ = "aborted: " + progress_->verdict();
  release_association();
  try {
    if (images_ok_ > 0) shared_.sink.association_ended(association_id_);
    log_summary();
  } catch (...) {
  }
}

void AssociationSession::serve() {
  // Every write (responses, A-ASSOCIATE-AC) is bounded; reads are bounded by DCMTK's own timeouts, this is a net.
  set_timeout(socket_, SO_SNDTIMEO, shared_.options.dimse_timeout_s);
  set_timeout(socket_, SO_RCVTIMEO, shared_.options.dimse_timeout_s + shared_.options.acse_timeout_s);
  if (!receive_association()) return;
  if (shared_.stopping) {
    reject(ASC_RESULT_REJECTEDTRANSIENT, ASC_SOURCE_SERVICEPROVIDER_PRESENTATION_RELATED,
           ASC_REASON_SP_PRES_TEMPORARYCONGESTION, "node stopping");
    return;
  }
  if (!admit()) return;
  negotiate();
  const OFCondition acknowledged = ASC_acknowledgeAssociation(association_);
  if (acknowledged.bad()) {
    ended_ = std::string("A-ASSOCIATE-AC failed: ") + acknowledged.text();
    return;
  }
  admitted_ = true;
  (void)stand_in_for_unknown_syntaxes(association_);  // HTJ2K: see unknown_syntax_contexts.hpp
  if (progress_) progress_->message_completed();
  serve_commands();
}

void AssociationSession::abort(const std::string& why) {
  ended_ = "aborted: " + why;
  // A raw A-ABORT and a shutdown instead of ASC_abortAssociation, which reads on until the peer closes and so
  // could be held up by a peer that keeps sending. Never blocks: the PDU fits any socket buffer.
  (void)::send(socket_, kAbortPdu.data(), kAbortPdu.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)::shutdown(socket_, SHUT_RDWR);
}

void AssociationSession::release_association() noexcept {
  if (association_ == nullptr) return;
  if (peer_closes_next_) {
    (void)ASC_dropSCPAssociation(association_, kDropTimeoutS);  // waits (briefly) for the peer to close first
  } else {
    (void)ASC_dropAssociation(association_);
  }
  (void)ASC_destroyAssociation(&association_);
  association_ = nullptr;
}

void AssociationSession::log_summary() const {
  if (shared_.options.metrics) shared_.options.metrics->association_ended(ended_);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  const bool ordinary = admitted_ && ended_ == "released";
  if (!ordinary && shared_.throttle != nullptr && !shared_.throttle->admit(admitted_ ? "association aborted" : "association refused")) {
    return;
  }
  if (!admitted_) {
    logger()->warn("association from {} calling={} called={} {} after {} ms", peer_address_, printable(calling_ae_),
                   printable(called_ae_), ended_, elapsed);
    return;
  }
  logger()->info("association from {} calling={} called={} gw={} contexts={}/{} images={} failed={} duration={} ms {}",
                 peer_address_, printable(calling_ae_), printable(called_ae_), gateway_id_, contexts_accepted_,
                 contexts_proposed_, images_ok_, images_failed_, elapsed, ended_);
}

}  // namespace creni::ingest
