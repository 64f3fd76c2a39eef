#pragma once

#include <cstdint>
#include <string>

namespace creni::forward {

/// `host`:`port` for people and logs, an IPv6 address in brackets ("[::1]:104", also when given as "[::1]").
[[nodiscard]] std::string host_and_port(const std::string& host, std::uint16_t port);

}  // namespace creni::forward
