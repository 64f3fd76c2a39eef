#include "http_client.hpp"

#include <httplib.h>

#include <regex>
#include <sstream>

namespace creni::testing {

namespace {

HttpReply to_reply(const httplib::Result& result) {
  if (!result) return HttpReply{-1, "transport error: " + httplib::to_string(result.error()), ""};
  return HttpReply{result->status, result->body, result->get_header_value("Content-Type")};
}

httplib::Client client(int port) {
  httplib::Client http("127.0.0.1", port);
  http.set_connection_timeout(5);
  http.set_read_timeout(10);
  return http;
}

}  // namespace

nlohmann::json HttpReply::json() const { return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false); }

HttpReply http_get(int port, const std::string& path) { return to_reply(client(port).Get(path)); }

HttpReply http_post(int port, const std::string& path, const std::string& authorization) {
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  return to_reply(client(port).Post(path, headers, "", "text/plain"));
}

double metric_value(const std::string& exposition, const std::string& name, const std::map<std::string, std::string>& labels) {
  static const std::regex sample(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)$)");
  static const std::regex label(R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)")re");
  double total = 0.0;
  bool found = false;
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    std::smatch parts;
    if (line.empty() || line[0] == '#' || !std::regex_match(line, parts, sample) || parts[1] != name) continue;
    std::map<std::string, std::string> present;
    const std::string label_text = parts[3];
    for (auto it = std::sregex_iterator(label_text.begin(), label_text.end(), label); it != std::sregex_iterator(); ++it) {
      present[(*it)[1]] = (*it)[2];
    }
    bool matches = true;
    for (const auto& [key, value] : labels) matches = matches && present.count(key) && present[key] == value;
    if (!matches) continue;
    total += std::stod(parts[4]);
    found = true;
  }
  return found ? total : -1.0;
}

}  // namespace creni::testing
