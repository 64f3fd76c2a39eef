#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/harness.hpp"

class DcmTagKey;

namespace creni::testing {

/// Temporary files of interrupted or unfinished atomic writes (".creni-tmp") anywhere below `folder`.
[[nodiscard]] std::vector<std::filesystem::path> temporary_files_below(const std::filesystem::path& folder);

/// `count` generated slices of one new series written into `gateway_folder` as <StudyUID>/<SOPUID>, each under a
/// temporary name first and then renamed, as a careful gateway does.
void drop_images(const std::filesystem::path& gateway_folder, int count);

/// The element's value in a DICOM file (all values, backslash-separated), or "<unreadable>".
[[nodiscard]] std::string tag_of(const std::filesystem::path& file, const DcmTagKey& tag);

/// The built creni-node binary running against its own temp folders (INPUT, OUTPUT, state) and a config file that
/// the test writes. Stopped by PID (SIGTERM, then SIGKILL) when destroyed.
class NodeUnderTest {
 public:
  /// Lines added to the tables of the base config, and whole tables appended at the end.
  struct Settings {
    std::string node;       ///< keys for [node]
    std::string input;      ///< keys for [input]
    std::string scp;        ///< keys for [scp]
    std::string http;       ///< keys for [http] (listen is set to a free loopback port unless given)
    std::string gateway_1;  ///< keys for gateway "1" (for example destinations = ["pacs"])
    std::string tables;     ///< whole tables ([processing], [[destination]], ...)
    std::vector<std::string> launcher;  ///< argv prefix the node runs under (for example strace); empty = none
    std::string bind;                   ///< [scp] bind; empty = "127.0.0.1"
    std::vector<std::string> arguments; ///< extra arguments of `run` (for example "--log-format", "json")
  };

  /// A base config: [node] with the temp folders and 2 workers (unless `node` sets workers), [input] with short windows, gateways "1" (nested)
  /// and "2" (flat), SCP and HTTP on free loopback ports; `settings` adds to it.
  explicit NodeUnderTest(const Settings& settings = {});
  /// Stops the node (SIGTERM, then SIGKILL), also when a launcher such as strace forked it.
  ~NodeUnderTest();
  NodeUnderTest(const NodeUnderTest&) = delete;
  NodeUnderTest& operator=(const NodeUnderTest&) = delete;

  /// Starts the node and waits until it logged that it started. Returns false (with the log in `log()`) otherwise.
  bool start();
  /// start() under another launcher (an argv prefix, e.g. strace with options that need the node's paths).
  bool start_under(std::vector<std::string> launcher);
  /// SIGKILL to the node (and its launcher), no clean-up at all (crash test).
  void kill_hard();
  /// SIGTERM and wait; returns the exit code.
  int stop();
  /// Whether the node process has ended (on its own, e.g. at a crash point) within `timeout`.
  bool exited_within(std::chrono::milliseconds timeout);

  [[nodiscard]] const std::filesystem::path& input() const { return input_; }
  [[nodiscard]] const std::filesystem::path& output() const { return output_; }
  [[nodiscard]] const std::filesystem::path& state() const { return state_; }
  [[nodiscard]] const std::filesystem::path& config_file() const { return config_file_; }
  [[nodiscard]] int port() const { return port_; }
  /// The HTTP server's port (a free loopback port chosen for this node).
  [[nodiscard]] int http_port() const { return http_port_; }
  [[nodiscard]] std::string log() const;
  /// PID of the node process (-1 when not started).
  [[nodiscard]] pid_t pid() const;
  /// PIDs of the node's direct children (its worker processes).
  [[nodiscard]] std::vector<pid_t> children() const;

  /// For a node started under `unshare -m` with its own mounts over its folders: status is then read from inside
  /// the node's mount namespace (nsenter), where its journal is.
  void read_status_in_its_mount_namespace() { status_in_namespace_ = true; }

  /// `creni-node status --json` output.
  [[nodiscard]] std::string status_json() const;
  /// Number of jobs in `state` (all gateways), from `status --json`.
  [[nodiscard]] long count_in_state(const std::string& state) const;
  /// Waits until `count_in_state(state) >= count`.
  bool wait_for_state(const std::string& state, long count, std::chrono::milliseconds timeout) const;
  /// Every .dcm file below OUTPUT.
  [[nodiscard]] std::vector<std::filesystem::path> outputs() const;

 private:
  harness::TempDir root_{"creni-node"};
  std::filesystem::path input_;
  std::filesystem::path output_;
  std::filesystem::path state_;
  std::filesystem::path config_file_;
  int port_ = 0;
  int http_port_ = 0;
  std::unique_ptr<harness::ChildProcess> process_;
  [[nodiscard]] pid_t node_process() const;

  std::vector<std::string> launcher_;
  std::vector<std::string> arguments_;
  bool status_in_namespace_ = false;
};

}  // namespace creni::testing
