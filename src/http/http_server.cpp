#include "creni/http/http_server.hpp"

#include <httplib.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <thread>

#include "api_routes.hpp"
#include "bounded_task_queue.hpp"
#include "creni/common/clock.hpp"
#include "creni/journal/journal.hpp"
#include "creni/journal/journal_reader.hpp"
#include "creni/metrics/registry.hpp"
#include "dashboard_assets.hpp"
#include "journal_families.hpp"

namespace creni::http {

namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("http");
  return named ? named : spdlog::default_logger();
}

// Connections waiting for a request thread before the accept thread stops taking more.
constexpr std::size_t kQueueCapacity = 16;
// A client that sends nothing, or reads nothing, for this long is dropped; it never holds a thread for longer.
constexpr time_t kSocketTimeoutS = 5;
constexpr time_t kKeepAliveS = 2;
// Requests have no bodies worth the name (the write endpoints take none).
constexpr std::size_t kMaxPayload = 64 * 1024;

// The dashboard is self-contained: no script, style or font from anywhere else may load.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

}  // namespace

class HttpServer::Runtime {
 public:
  Runtime(const HttpServerOptions& options, metrics::Registry& registry, std::unique_ptr<journal::Journal> journal,
          std::unique_ptr<journal::JournalReader> reader)
      : options_(options),
        registry_(registry),
        journal_(std::move(journal)),
        reader_(std::move(reader)),
        api_{options_, *journal_, *reader_} {
    const int threads = std::max(1, options_.threads);
    server_.new_task_queue = [threads] { return new BoundedTaskQueue(threads, kQueueCapacity); };
    server_.set_read_timeout(kSocketTimeoutS, 0);
    server_.set_write_timeout(kSocketTimeoutS, 0);
    server_.set_keep_alive_timeout(kKeepAliveS);
    server_.set_payload_max_length(kMaxPayload);
    server_.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
    // cpp-httplib's default adds SO_REUSEPORT, which would let a second node share the port (and half the
    // requests) instead of failing to start. SO_REUSEADDR alone allows a quick restart; TCP_NODELAY answers at once.
    server_.set_socket_options([](socket_t socket) {
      const int yes = 1;
      (void)::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    });
    server_.set_tcp_nodelay(true);
    server_.set_exception_handler([](const httplib::Request& request, httplib::Response& response, std::exception_ptr) {
      logger()->error("http: {} {} failed on an internal error", request.method, request.path);
      reply_json(response, 500, {{"error", "internal error"}});
    });
    add_routes();
  }

  Status start() {
    if (!server_.bind_to_port(options_.host, options_.port)) {
      return make_error("bind_failed", "http: cannot listen on " + options_.host + ":" + std::to_string(options_.port));
    }
    listener_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "http-listen");
      if (!server_.listen_after_bind()) logger()->error("http: the server stopped listening");
    });
    // stop() only reaches a server that has started listening: wait (bounded) until it has.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    logger()->info("http: listening on {}:{} (write endpoints {})", options_.host, options_.port,
                   options_.token.empty() ? "disabled: no token_file" : "enabled");
    return {};
  }

  void stop() {
    server_.stop();
    if (listener_.joinable()) listener_.join();
  }

 private:
  void add_routes() {
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& response) {
      reply_json(response, 200, {{"status", "alive"}});
    });
    server_.Get("/readyz", [this](const httplib::Request&, httplib::Response& response) { readiness(response); });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) { metrics(response); });
    add_api_routes(server_, api_);
    for (const DashboardAsset* asset = dashboard_assets_begin(); asset != dashboard_assets_end(); ++asset) {
      const std::string path = asset->path == "/index.html" ? "/" : std::string(asset->path);
      server_.Get(path, [asset](const httplib::Request&, httplib::Response& response) {
        response.set_header("Content-Security-Policy", kContentSecurityPolicy);
        response.set_header("Cache-Control", "no-cache");
        response.set_content(asset->content.data(), asset->content.size(), std::string(asset->content_type).c_str());
      });
    }
  }

  void readiness(httplib::Response& response) {
    Readiness ready = options_.readiness ? options_.readiness() : Readiness{};
    if (Status journal = reader_->check(); !journal) ready.reasons.push_back("journal: " + journal.error().describe());
    Json reasons = ready.reasons;
    reply_json(response, ready.ready() ? 200 : 503, {{"ready", ready.ready()}, {"reasons", reasons}});
  }

  void metrics(httplib::Response& response) {
    auto from_journal = journal_families(*journal_, *reader_, unix_time_ms());
    if (!from_journal) logger()->warn("http: /metrics without journal values: {}", from_journal.error().describe());
    const std::string text = registry_.exposition(from_journal ? from_journal.value() : std::vector<metrics::Family>{});
    response.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  }

  const HttpServerOptions& options_;
  metrics::Registry& registry_;
  std::unique_ptr<journal::Journal> journal_;
  std::unique_ptr<journal::JournalReader> reader_;
  ApiContext api_;
  httplib::Server server_;
  std::thread listener_;
};

HttpServer::HttpServer(HttpServerOptions options, metrics::Registry& registry)
    : options_(std::move(options)), registry_(registry) {}

HttpServer::~HttpServer() { stop(); }

Status HttpServer::start() {
  if (runtime_) return {};
  // Its own connections, like an operator command: reads never wait for the node's journal lock.
  auto journal = journal::Journal::open(options_.journal_file);
  if (!journal) return journal.error();
  auto reader = journal::JournalReader::open(options_.journal_file);
  if (!reader) return reader.error();
  auto runtime = std::make_unique<Runtime>(options_, registry_, std::move(journal).value(), std::move(reader).value());
  if (Status started = runtime->start(); !started) return started;
  runtime_ = std::move(runtime);
  return {};
}

void HttpServer::stop() {
  if (!runtime_) return;
  runtime_->stop();
  runtime_.reset();
  logger()->info("http: stopped");
}

std::uint16_t HttpServer::port() const { return runtime_ ? options_.port : 0; }

}  // namespace creni::http
