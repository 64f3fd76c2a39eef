#pragma once

#include <filesystem>
#include <string>
#include <string_view>

/// The role "send one result to one PACS": the forwarder (business side) depends on this interface only; a DICOM
/// toolkit implements it (DcmtkPacsSender). Header-only target creni::pacs_sender.
namespace creni::forward {

/// How one attempt ended, as far as the sender can know. The classification rule, which decides whether the
/// journal may ever send the result again:
/// - `sent`: the PACS answered the C-STORE with success (0x0000), a warning (0x0001, 0x0107, 0x0116, 0xBxxx) or
///   0x0111 "duplicate SOP instance" (it already has the image). Warnings and duplicates are named in `detail`.
/// - `failed`: provably nothing was stored: connection refused, unreachable host or connect timeout, TLS
///   handshake failure, association rejected or not answered, no presentation context accepted, the file could
///   not be read, or the PACS answered with a failure status (0xA7xx out of resources, 0xA9xx data set does not
///   match SOP class, 0xCxxx cannot understand, 0x0110, 0x0122, 0x0124, ...). Safe to retry.
/// - `unknown`: the data set (or part of it) went out but no valid response came back: DIMSE timeout after
///   sending, A-ABORT or connection reset while sending or waiting, an answer that is not our C-STORE-RSP. The
///   PACS may have stored the image, so it must never be re-sent automatically.
enum class SendOutcome { sent, failed, unknown };

/// "sent", "failed" or "unknown".
[[nodiscard]] inline std::string_view to_string(SendOutcome outcome) {
  switch (outcome) {
    case SendOutcome::sent: return "sent";
    case SendOutcome::failed: return "failed";
    case SendOutcome::unknown: return "unknown";
  }
  return "unknown";
}

/// Where an attempt ended. Stored in the journal as text (SendPhase names below).
enum class SendPhase {
  prepare,    ///< before the network: reading the file, setting up TLS
  connect,    ///< TCP connect and TLS handshake
  associate,  ///< A-ASSOCIATE request and its answer
  negotiate,  ///< the association is up but no presentation context fits the file
  store,      ///< sending the C-STORE request and the data set
  response,   ///< waiting for, and reading, the C-STORE (or C-ECHO) response
  release,    ///< A-RELEASE after a `sent` response failed (noted in detail; the outcome stays `sent`)
};

/// "prepare", "connect", "associate", "negotiate", "store", "response" or "release".
[[nodiscard]] inline std::string_view to_string(SendPhase phase) {
  switch (phase) {
    case SendPhase::prepare: return "prepare";
    case SendPhase::connect: return "connect";
    case SendPhase::associate: return "associate";
    case SendPhase::negotiate: return "negotiate";
    case SendPhase::store: return "store";
    case SendPhase::response: return "response";
    case SendPhase::release: return "release";
  }
  return "prepare";
}

/// The result of one attempt.
struct SendResult {
  SendOutcome outcome = SendOutcome::failed;
  SendPhase phase = SendPhase::prepare;  ///< where the outcome was decided
  std::string detail;                    ///< human-readable: the peer's reason, warning or error text
  int dimse_status = -1;                 ///< the peer's DIMSE status, -1 when no response was received
};

/// Sends files to one PACS, one attempt per call, and reports what is known about the outcome (see SendOutcome).
/// Never throws for network or peer problems: every failure is a SendResult. Implementations never retry on their
/// own. Not thread-safe: one instance belongs to one thread (the forwarder gives each destination its own).
class PacsSender {
 public:
  virtual ~PacsSender() = default;

  /// Sends one Part 10 file with C-STORE, exactly once, over a fresh association (or over the association the
  /// previous send left open, when the implementation shares associations and it fits this file).
  [[nodiscard]] virtual SendResult send_once(const std::filesystem::path& file) = 0;

  /// Releases an association kept open for the next send, if any (the forwarder calls it when nothing is due).
  virtual void release_association() {}

  /// Verifies the PACS with C-ECHO (outcome sent or failed; never unknown, since nothing is stored).
  [[nodiscard]] virtual SendResult echo() = 0;
};

}  // namespace creni::forward
