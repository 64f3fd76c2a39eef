#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>


#include "creni/common/result.hpp"
#include "creni/http/api_documents.hpp"
#include "creni/http/readiness.hpp"

namespace creni::metrics {
class Registry;
}

namespace creni::http {

/// What the server needs from the node it runs in. Every callback is called on a server thread, concurrently,
/// and must be thread-safe and quick.
struct HttpServerOptions {
  std::string host = "127.0.0.1";            ///< numeric IPv4 address to listen on
  std::uint16_t port = 11180;
  std::string token;                         ///< bearer token of the write endpoints; "" = write endpoints disabled
  std::filesystem::path journal_file;        ///< <state>/journal.db, opened by the server itself (like the CLI)
  int threads = 4;                           ///< request threads ("http-<n>")
  std::function<Readiness()> readiness;      ///< the node's own conditions for /readyz
  std::function<Json()> node_status;  ///< the "node" object of /api/status
  std::function<void()> jobs_changed;        ///< after an operator change: wake the pipeline and the forwarder
};

/// The node's HTTP server (cpp-httplib), on its own bounded threads so that it never slows intake: one accept
/// thread ("http-listen") and `threads` request threads with a bounded queue (when it is full, new connections
/// wait in the kernel's backlog). Endpoints:
///   GET /healthz, GET /readyz (503 with {"ready": false, "reasons": [...]}), GET /metrics (Prometheus text),
///   GET /api/status, GET /api/jobs?gateway=&state=&limit=&after=, GET /api/jobs/{id}, GET /api/activity,
///   POST /api/jobs/{id}/reprocess|resend|discard (Authorization: Bearer <token>; 403 without a configured token,
///   401 with a missing or wrong one), GET / (the dashboard, its files compiled in).
/// It reads and changes the journal through its own connection, exactly as the operator commands do.
/// Thread-safety: start() and stop() from one controlling thread.
class HttpServer {
 public:
  HttpServer(HttpServerOptions options, metrics::Registry& registry);
  ~HttpServer();  ///< calls stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Opens the journal and binds. Errors: "bind_failed" (names host:port), journal open errors.
  [[nodiscard]] Status start();
  /// Stops accepting, finishes the requests in progress, joins every thread. Idempotent.
  void stop();
  /// The bound port; 0 before start().
  [[nodiscard]] std::uint16_t port() const;

 private:
  class Runtime;
  HttpServerOptions options_;
  metrics::Registry& registry_;
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace creni::http
