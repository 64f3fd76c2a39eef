#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "creni/common/result.hpp"

namespace creni::config {

/// [http]: the node's HTTP server (health and readiness probes, Prometheus metrics, JSON API, dashboard).
struct HttpConfig {
  bool enabled = true;                      ///< enabled
  std::string listen = "127.0.0.1:11180";   ///< listen: "<IPv4 address>:<port>" or "localhost:<port>"
  std::filesystem::path token_file;         ///< token_file: the bearer token of the write endpoints; "" = none
};

/// Where the HTTP server listens.
struct ListenAddress {
  std::string host;  ///< numeric IPv4 address ("localhost" becomes 127.0.0.1)
  std::uint16_t port = 0;
};

/// "<IPv4>:<port>" or "localhost:<port>", port 1-65535. Errors: "invalid_config" naming http.listen.
[[nodiscard]] Result<ListenAddress> parse_listen_address(const std::string& listen);

/// Whether only this machine can reach `host` (127.0.0.0/8).
[[nodiscard]] bool is_loopback(const std::string& host);

/// Checks [http]: the listen address, and that a non-loopback address has a token_file (otherwise anyone on the
/// network could read every job's paths; write endpoints need the token anyway). Errors: "invalid_config".
[[nodiscard]] Status validate(const HttpConfig& http);

/// The token in `token_file`: its content without surrounding white space. Errors: "invalid_config" naming
/// http.token_file when it cannot be read, is empty, or has white space or control characters inside.
[[nodiscard]] Result<std::string> read_http_token(const std::filesystem::path& token_file);

}  // namespace creni::config
