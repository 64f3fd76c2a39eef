#include "node_under_test.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>

#include <gtest/gtest.h>

#include "dicom_factory.hpp"

namespace creni::testing {

std::vector<std::filesystem::path> temporary_files_below(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> found;
  for (const auto& file : harness::files_below(folder)) {
    if (file.filename().string().find(".creni-tmp") != std::string::npos) found.push_back(file);
  }
  return found;
}

void drop_images(const std::filesystem::path& gateway_folder, int count) {
  ImageSpec spec;
  spec.study_instance_uid = fresh_uid();
  spec.series_instance_uid = fresh_uid();
  std::filesystem::create_directories(gateway_folder / spec.study_instance_uid);
  for (int i = 0; i < count; ++i) {
    spec.sop_instance_uid = fresh_uid();
    const auto file = gateway_folder / spec.study_instance_uid / spec.sop_instance_uid;
    ASSERT_TRUE(write_image(spec, file.string() + ".part").ok());
    std::filesystem::rename(file.string() + ".part", file);
  }
}

std::string tag_of(const std::filesystem::path& file, const DcmTagKey& tag) {
  DcmFileFormat dicom;
  if (dicom.loadFile(file.c_str()).bad()) return "<unreadable>";
  OFString value;
  dicom.getDataset()->findAndGetOFStringArray(tag, value);
  return value.c_str();
}

NodeUnderTest::NodeUnderTest(const Settings& settings)
    : input_(root_ / "INPUT"),
      output_(root_ / "OUTPUT"),
      state_(root_ / "state"),
      config_file_(root_ / "node.toml"),
      launcher_(settings.launcher),
      arguments_(settings.arguments) {
  port_ = harness::free_port();
  http_port_ = harness::free_port();
  std::ofstream config(config_file_);
  config << "[node]\n"
         << "input_dir = \"" << input_.string() << "\"\n"
         << "output_dir = \"" << output_.string() << "\"\n"
         << "state_dir = \"" << state_.string() << "\"\n"
         << (settings.node.find("workers") == std::string::npos ? "workers = 2\n" : "")
         << (settings.node.find("min_free_mb") == std::string::npos ? "min_free_mb = 1\n" : "")
         << "log_level = \"debug\"\n"
         << settings.node << "\n"
         << "[scp]\nbind = \"" << (settings.bind.empty() ? "127.0.0.1" : settings.bind) << "\"\nport = " << port_ << "\n" << settings.scp << "\n"
         << "[http]\n"
         << (settings.http.find("listen") == std::string::npos
                 ? "listen = \"127.0.0.1:" + std::to_string(http_port_) + "\"\n"
                 : std::string())
         << settings.http << "\n"
         << "[input]\nsettle_ms = 20\nstability_ms = 300\nrescan_interval_s = 2\n" << settings.input << "\n"
         << "[[gateway]]\nid = \"1\"\ncalling_ae_titles = [\"GATEWAY_1\"]\noutput_layout = \"nested\"\n"
         << settings.gateway_1 << "\n"
         << "[[gateway]]\nid = \"2\"\ncalling_ae_titles = [\"GATEWAY_2\"]\noutput_layout = \"flat\"\n"
         << settings.tables << "\n";
}

// The node's own "ready" line (after its ports are open and its workers have started; other lines say "started"
// too, such as a worker's).
constexpr std::string_view kReadyLine = " started: input ";

bool NodeUnderTest::start() {
  std::vector<std::string> argv = launcher_;
  argv.insert(argv.end(), {CRENI_NODE_BINARY, "run", "--config", config_file_.string()});
  argv.insert(argv.end(), arguments_.begin(), arguments_.end());
  process_ = std::make_unique<harness::ChildProcess>(argv, root_.path());
  return harness::wait_until(
      [&] { return log().find(kReadyLine) != std::string::npos || !process_->running(); }, std::chrono::seconds(20)) &&
         process_->running();
}

bool NodeUnderTest::start_under(std::vector<std::string> launcher) {
  launcher_ = std::move(launcher);
  return start();
}

NodeUnderTest::~NodeUnderTest() {
  if (!process_ || !process_->running()) return;
  if (stop() == -1) kill_hard();
}

pid_t NodeUnderTest::node_process() const {
  if (!process_) return -1;
  // Most launchers exec the node (env, prlimit, unshare); strace forks it. The node is the process running `run`
  // with this node's own config file.
  const std::string config = config_file_.string();
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::vector<std::string> args;
    for (std::string arg; std::getline(in, arg, '\0');) args.push_back(arg);
    const bool runs = std::find(args.begin(), args.end(), "run") != args.end();
    if (runs && std::find(args.begin(), args.end(), config) != args.end() && args.front() != "strace" &&
        args.front().find("/strace") == std::string::npos) {
      return static_cast<pid_t>(std::stol(name));
    }
  }
  return process_->pid();
}

void NodeUnderTest::kill_hard() {
  if (!process_) return;
  const pid_t node = node_process();
  if (node > 0) ::kill(node, SIGKILL);
  process_->signal(SIGKILL);
  process_->wait(std::chrono::seconds(10));
}

int NodeUnderTest::stop() {
  if (!process_) return -1;
  // The node itself gets the SIGTERM: a launcher that forked it (strace) ends when it does.
  const pid_t node = node_process();
  if (node > 0) ::kill(node, SIGTERM);
  const int code = process_->wait(std::chrono::seconds(60));
  if (code == -1) process_->signal(SIGTERM);
  return code;
}

bool NodeUnderTest::exited_within(std::chrono::milliseconds timeout) {
  return process_ && harness::wait_until([&] { return !process_->running(); }, timeout);
}

pid_t NodeUnderTest::pid() const { return process_ ? process_->pid() : -1; }

std::vector<pid_t> NodeUnderTest::children() const {
  // Each thread lists the children it spawned itself: workers are spawned by the pipeline threads.
  std::vector<pid_t> found;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + std::to_string(pid()) + "/task", ec)) {
    std::ifstream list(task.path() / "children");
    for (pid_t child = 0; list >> child;) found.push_back(child);
  }
  return found;
}

std::string NodeUnderTest::log() const { return process_ ? process_->stderr_text() : std::string(); }

std::string NodeUnderTest::status_json() const {
  std::vector<std::string> argv;
  if (status_in_namespace_) {
    argv = {harness::find_program("nsenter"), "-t", std::to_string(pid()), "-m"};
    // A node started by a user other than root has its mounts inside a user namespace of its own.
    if (::geteuid() != 0) argv.insert(argv.end(), {"-U", "--preserve-credentials"});
    argv.emplace_back("--");
  }
  argv.insert(argv.end(), {CRENI_NODE_BINARY, "status", "--json", "--config", config_file_.string()});
  return harness::run_command(argv).out;
}

long NodeUnderTest::count_in_state(const std::string& state) const {
  const std::string json = status_json();
  const std::regex row("\"state\":\"" + state + "\",\"count\":([0-9]+)");
  long total = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), row); it != std::sregex_iterator(); ++it) {
    total += std::stol((*it)[1]);
  }
  return total;
}

bool NodeUnderTest::wait_for_state(const std::string& state, long count, std::chrono::milliseconds timeout) const {
  return harness::wait_until([&] { return count_in_state(state) >= count; }, timeout);
}

std::vector<std::filesystem::path> NodeUnderTest::outputs() const {
  std::vector<std::filesystem::path> files;
  for (const auto& file : harness::files_below(output_)) {
    if (file.extension() == ".dcm") files.push_back(file);
  }
  return files;
}

}  // namespace creni::testing
