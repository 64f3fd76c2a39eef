#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness/harness.hpp"

/// Real PACS peers for the forward tests, each on 127.0.0.1 with its own folder, stopped by PID on destruction.
namespace creni::testing::peers {

/// True when something accepts TCP connections on 127.0.0.1:`port` right now.
[[nodiscard]] bool port_accepts(int port);

/// DCMTK's storescp as a PACS: verbose log, unique file names (+uf) in its own folder, so a second copy of the
/// same instance shows up as a second file. `options` are extra storescp options (--refuse, --sleep-during 3, ...).
class StoreScp {
 public:
  StoreScp(const std::filesystem::path& work_dir, int port, std::vector<std::string> options = {});

  /// Waits (bounded) until the port accepts connections; false when storescp exited or never listened.
  [[nodiscard]] bool wait_until_listening(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// The files it stored so far.
  [[nodiscard]] std::vector<std::filesystem::path> received_files() const;
  /// How many C-STORE requests it has seen (its own log), stored or not.
  [[nodiscard]] int store_requests_seen() const;
  /// How many associations it acknowledged.
  [[nodiscard]] int associations_acknowledged() const;
  /// How many orderly releases (A-RELEASE-RQ) it received.
  [[nodiscard]] int releases_received() const;
  /// Its stdout and stderr, for failure messages.
  [[nodiscard]] std::string log() const;
  [[nodiscard]] int port() const { return port_; }

 private:
  int port_;
  std::filesystem::path output_dir_;
  std::unique_ptr<harness::ChildProcess> process_;
};

/// The Debian `orthanc` package's server with its own JSON config, storage, index and free ports, no remote
/// access and no authentication. A Lua ReceivedInstanceFilter writes every reception's SOP Instance UID to a
/// file (Orthanc itself keeps one copy of an instance however often it arrives) and can sleep before letting
/// the instance be stored, to play a PACS that stores but answers too late.
class Orthanc {
 public:
  Orthanc(const std::filesystem::path& work_dir, int dicom_port, int http_port, int sleep_before_storing_s = 0);

  /// Waits (bounded) until the REST API answers /system; false when Orthanc exited or never answered.
  [[nodiscard]] bool wait_until_ready(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Orthanc ids of the stored instances (GET /instances).
  [[nodiscard]] std::vector<std::string> instance_ids() const;
  /// The SOP Instance UID of a stored instance (GET /instances/<id>/simplified-tags).
  [[nodiscard]] std::string sop_instance_uid_of(const std::string& instance_id) const;
  /// Every C-STORE reception seen by the filter, in order (SOP Instance UIDs).
  [[nodiscard]] std::vector<std::string> receptions() const;
  [[nodiscard]] std::string log() const;
  [[nodiscard]] int dicom_port() const { return dicom_port_; }

  /// The body of GET `path` on its REST API ("" when it does not answer).
  [[nodiscard]] std::string get(const std::string& path) const;

 private:
  int dicom_port_;
  int http_port_;
  std::filesystem::path receptions_file_;
  std::unique_ptr<harness::ChildProcess> process_;
};

/// A throw-away PKI made with `openssl` in `dir`: a CA, a server and a client certificate signed by it, and an
/// unrelated second CA. RSA 2048 keys, unencrypted PEM.
struct TestPki {
  std::filesystem::path ca;
  std::filesystem::path server_certificate;
  std::filesystem::path server_key;
  std::filesystem::path client_certificate;
  std::filesystem::path client_key;
  std::filesystem::path other_ca;
};

/// Creates the PKI; on failure returns false with the failing command's output in `error`.
[[nodiscard]] bool make_test_pki(const std::filesystem::path& dir, TestPki& pki, std::string& error);

}  // namespace creni::testing::peers
