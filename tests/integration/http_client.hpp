#pragma once

#include <map>
#include <string>

#include <nlohmann/json.hpp>

namespace creni::testing {

/// One HTTP answer: status (-1 when the request failed at transport level, `body` then says why) and body.
struct HttpReply {
  int status = -1;
  std::string body;
  std::string content_type;

  /// The body as JSON (null when it is not JSON).
  [[nodiscard]] nlohmann::json json() const;
};

/// GET http://127.0.0.1:<port><path>, 10 s timeout.
[[nodiscard]] HttpReply http_get(int port, const std::string& path);
/// POST with an empty body and, unless empty, `Authorization: <authorization>`.
[[nodiscard]] HttpReply http_post(int port, const std::string& path, const std::string& authorization = "");

/// The sum of the samples of metric `name` in a Prometheus text exposition whose labels include all of `labels`
/// (in any order); -1 when no sample matches.
[[nodiscard]] double metric_value(const std::string& exposition, const std::string& name,
                                  const std::map<std::string, std::string>& labels = {});

}  // namespace creni::testing
