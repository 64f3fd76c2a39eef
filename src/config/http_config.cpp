#include "creni/config/http_config.hpp"

#include <arpa/inet.h>

#include <fstream>
#include <sstream>

namespace creni::config {

namespace {

Error invalid(const std::string& key, const std::string& why) { return make_error("invalid_config", key + ": " + why); }

}  // namespace

Result<ListenAddress> parse_listen_address(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return invalid("http.listen", "must be <address>:<port>, got '" + listen + "'");
  ListenAddress address;
  address.host = listen.substr(0, colon);
  if (address.host == "localhost") address.host = "127.0.0.1";
  in_addr parsed{};
  if (::inet_pton(AF_INET, address.host.c_str(), &parsed) != 1) {
    return invalid("http.listen", "'" + address.host + "' is not a numeric IPv4 address or localhost");
  }
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) < 1 || std::stoi(port) > 65535) {
    return invalid("http.listen", "port must be between 1 and 65535, got '" + port + "'");
  }
  address.port = static_cast<std::uint16_t>(std::stoi(port));
  return address;
}

bool is_loopback(const std::string& host) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, host.c_str(), &parsed) != 1) return false;
  return (ntohl(parsed.s_addr) >> 24) == 127;
}

Status validate(const HttpConfig& http) {
  if (!http.enabled) return {};
  auto address = parse_listen_address(http.listen);
  if (!address) return address.error();
  if (!is_loopback(address->host) && http.token_file.empty()) {
    return invalid("http.listen", "'" + http.listen + "' is reachable from other machines: set http.token_file");
  }
  return {};
}

Result<std::string> read_http_token(const std::filesystem::path& token_file) {
  std::ifstream in(token_file);
  if (!in) return invalid("http.token_file", "cannot read " + token_file.string());
  std::stringstream text;
  text << in.rdbuf();
  std::string token = text.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? std::string() : token.substr(first, last - first + 1);
  if (token.empty()) return invalid("http.token_file", token_file.string() + " is empty");
  for (const char ch : token) {
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f) {
      return invalid("http.token_file", token_file.string() + ": the token must be one word of printable characters");
    }
  }
  return token;
}

}  // namespace creni::config
