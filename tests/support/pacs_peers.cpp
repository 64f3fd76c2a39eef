#include "pacs_peers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <sstream>

namespace creni::testing::peers {

namespace {

int count_lines_containing(const std::string& text, const std::string& needle) {
  int count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) {
    ++count;
  }
  return count;
}

void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
}

}  // namespace

bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return connected;
}

// ---- storescp ---------------------------------------------------------------------------------------------------

StoreScp::StoreScp(const std::filesystem::path& work_dir, int port, std::vector<std::string> options)
    : port_(port), output_dir_(work_dir / ("storescp-" + std::to_string(port))) {
  std::filesystem::create_directories(output_dir_);
  std::vector<std::string> argv = {"storescp", "-v", "-od", output_dir_.string(), "+uf"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(std::to_string(port));
  process_ = std::make_unique<harness::ChildProcess>(argv, work_dir);
}

bool StoreScp::wait_until_listening(std::chrono::milliseconds timeout) {
  return harness::wait_until([this] { return !process_->running() || port_accepts(port_); }, timeout) &&
         process_->running();
}

std::vector<std::filesystem::path> StoreScp::received_files() const { return harness::files_below(output_dir_); }

int StoreScp::store_requests_seen() const { return count_lines_containing(log(), "Received Store Request"); }

int StoreScp::associations_acknowledged() const { return count_lines_containing(log(), "Association Acknowledged"); }

int StoreScp::releases_received() const { return count_lines_containing(log(), "Association Release"); }

std::string StoreScp::log() const { return process_->stdout_text() + process_->stderr_text(); }

// ---- Orthanc ----------------------------------------------------------------------------------------------------

Orthanc::Orthanc(const std::filesystem::path& work_dir, int dicom_port, int http_port, int sleep_before_storing_s)
    : dicom_port_(dicom_port), http_port_(http_port), receptions_file_(work_dir / "orthanc-receptions.txt") {
  const auto root = work_dir / "orthanc";
  std::filesystem::create_directories(root / "storage");
  std::filesystem::create_directories(root / "index");

  std::ostringstream lua;
  lua << "function ReceivedInstanceFilter(dicom, origin, info)\n"
      << "  local file = io.open('" << receptions_file_.string() << "', 'a')\n"
      << "  file:write(tostring(dicom['SOPInstanceUID']) .. '\\n')\n"
      << "  file:close()\n";
  if (sleep_before_storing_s > 0) lua << "  os.execute('sleep " << sleep_before_storing_s << "')\n";
  lua << "  return true\n"
      << "end\n";
  write_text(root / "receptions.lua", lua.str());

  std::ostringstream config;
  config << "{\n"
         << "  \"Name\": \"creni-forward-test\",\n"
         << "  \"StorageDirectory\": \"" << (root / "storage").string() << "\",\n"
         << "  \"IndexDirectory\": \"" << (root / "index").string() << "\",\n"
         << "  \"DicomAet\": \"ORTHANC\",\n"
         << "  \"DicomPort\": " << dicom_port << ",\n"
         << "  \"HttpPort\": " << http_port << ",\n"
         << "  \"RemoteAccessAllowed\": false,\n"
         << "  \"AuthenticationEnabled\": false,\n"
         << "  \"DicomCheckCalledAet\": false,\n"
         << "  \"Plugins\": [],\n"
         << "  \"LuaScripts\": [\"" << (root / "receptions.lua").string() << "\"]\n"
         << "}\n";
  write_text(root / "orthanc.json", config.str());
  process_ = std::make_unique<harness::ChildProcess>(
      std::vector<std::string>{"/usr/sbin/Orthanc", (root / "orthanc.json").string()}, work_dir);
}

bool Orthanc::wait_until_ready(std::chrono::milliseconds timeout) {
  return harness::wait_until(
             [this] { return !process_->running() || get("/system").find("\"DicomPort\"") != std::string::npos; },
             timeout) &&
         process_->running();
}

std::string Orthanc::get(const std::string& path) const {
  const auto result = harness::run_command(
      {"curl", "-s", "-f", "--max-time", "10", "http://127.0.0.1:" + std::to_string(http_port_) + path},
      std::chrono::seconds(15));
  return result.exit_code == 0 ? result.out : "";
}

std::vector<std::string> Orthanc::instance_ids() const {
  const std::string json = get("/instances");
  static const std::regex id(R"re("([0-9a-f]{8}(?:-[0-9a-f]{8}){4})")re");
  std::vector<std::string> ids;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), id); it != std::sregex_iterator(); ++it) {
    ids.push_back((*it)[1]);
  }
  return ids;
}

std::string Orthanc::sop_instance_uid_of(const std::string& instance_id) const {
  const std::string json = get("/instances/" + instance_id + "/simplified-tags");
  static const std::regex sop(R"re("SOPInstanceUID"\s*:\s*"([0-9.]+)")re");
  std::smatch match;
  return std::regex_search(json, match, sop) ? match[1].str() : "";
}

std::vector<std::string> Orthanc::receptions() const {
  std::vector<std::string> uids;
  std::istringstream lines(harness::read_file(receptions_file_));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) uids.push_back(line);
  }
  return uids;
}

std::string Orthanc::log() const { return process_->stdout_text() + process_->stderr_text(); }

// ---- PKI --------------------------------------------------------------------------------------------------------

namespace {

bool run_openssl(const std::vector<std::string>& arguments, std::string& error) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  const auto result = harness::run_command(argv, std::chrono::seconds(60));
  if (result.exit_code == 0) return true;
  error = "openssl " + arguments.at(0) + " failed (" + std::to_string(result.exit_code) + "): " + result.err;
  return false;
}

bool make_ca(const std::filesystem::path& dir, const std::string& name, std::string& error) {
  return run_openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                      "-keyout", (dir / (name + ".key")).string(), "-out", (dir / (name + ".pem")).string()},
                     error);
}

bool make_signed(const std::filesystem::path& dir, const std::string& name, const std::string& ca,
                 std::string& error) {
  const auto key = (dir / (name + ".key")).string();
  const auto request = (dir / (name + ".csr")).string();
  return run_openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", key, "-out",
                      request},
                     error) &&
         run_openssl({"x509", "-req", "-days", "2", "-in", request, "-CA", (dir / (ca + ".pem")).string(), "-CAkey",
                      (dir / (ca + ".key")).string(), "-CAcreateserial", "-out", (dir / (name + ".pem")).string()},
                     error);
}

}  // namespace

bool make_test_pki(const std::filesystem::path& dir, TestPki& pki, std::string& error) {
  std::filesystem::create_directories(dir);
  if (!make_ca(dir, "test-ca", error) || !make_ca(dir, "other-ca", error) ||
      !make_signed(dir, "server", "test-ca", error) || !make_signed(dir, "client", "test-ca", error)) {
    return false;
  }
  pki = TestPki{dir / "test-ca.pem",    dir / "server.pem", dir / "server.key",
                dir / "client.pem",     dir / "client.key", dir / "other-ca.pem"};
  return true;
}

}  // namespace creni::testing::peers
