#pragma once

#include <httplib.h>

#include "creni/http/http_server.hpp"
#include "creni/journal/journal.hpp"
#include "creni/journal/journal_reader.hpp"

namespace creni::http {

/// What the /api routes use; owned by the server's runtime, outliving the routes.
struct ApiContext {
  const HttpServerOptions& options;
  journal::Journal& journal;
  journal::JournalReader& reader;
};

/// GET /api/status, /api/jobs, /api/jobs/{id}, /api/activity and POST /api/jobs/{id}/<change>.
void add_api_routes(httplib::Server& server, ApiContext& context);

/// Sends `document` as JSON with `status`.
void reply_json(httplib::Response& response, int status, const Json& document);

}  // namespace creni::http
