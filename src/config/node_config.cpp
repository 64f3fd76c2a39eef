#include "creni/config/node_config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <system_error>

namespace creni::config {

namespace {

Error invalid(const std::string& key, const std::string& why) { return make_error("invalid_config", key + ": " + why); }

Status check_range(const std::string& key, long long value, long long low, long long high) {
  if (value < low || value > high) {
    return invalid(key, "must be between " + std::to_string(low) + " and " + std::to_string(high) + ", got " +
                            std::to_string(value));
  }
  return {};
}

Status check_tls(const std::string& key, const TlsConfig& tls) {
  if (!tls.enabled) return {};
  if (tls.certificate.empty() != tls.private_key.empty()) {
    return invalid(key, "certificate and private_key must be given together");
  }
  if (tls.require_peer_certificate && tls.trusted_certificates.empty()) {
    return invalid(key + ".trusted_certificates", "required when require_peer_certificate is true");
  }
  return {};
}


// Text that ends up in DICOM LO values and in the burned-in annotation: printable ASCII without backslash.
bool is_plain_text(const std::string& text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  return std::all_of(text.begin(), text.end(), [](char ch) { return ch >= 0x20 && ch <= 0x7e && ch != '\\'; });
}

Status check_per_channel(const std::string& key, const std::vector<double>& values, int channels, bool nonzero) {
  if (values.size() != 1 && values.size() != static_cast<std::size_t>(channels)) {
    return invalid(key, "give one value or one per channel (" + std::to_string(channels) + ")");
  }
  for (const double value : values) {
    if (!std::isfinite(value)) return invalid(key, "values must be finite numbers");
    if (nonzero && value == 0.0) return invalid(key, "values must not be 0");
  }
  return {};
}

Status check_probability(const std::string& key, double value) {
  if (!(value >= 0.0 && value <= 1.0)) return invalid(key, "must be between 0 and 1");
  return {};
}

// The model keys [inference] and [series.infer] share; `table` names the table in messages. `step` says who needs it.
Status check_inference_model(const InferenceConfig& inference, const std::string& table, const std::string& step) {
  if (inference.model.empty()) return invalid(table + ".model", "required by " + step);
  std::error_code error;
  const auto status = std::filesystem::status(inference.model, error);
  if (!std::filesystem::exists(status)) return invalid(table + ".model", "file not found: " + inference.model.string());
  if (!std::filesystem::is_regular_file(status)) return invalid(table + ".model", "not a regular file: " + inference.model.string());
  if (Status s = check_range(table + ".input_size[0]", inference.input_width, 1, 8192); !s) return s;
  if (Status s = check_range(table + ".input_size[1]", inference.input_height, 1, 8192); !s) return s;
  if (inference.channels != 1 && inference.channels != 3) return invalid(table + ".channels", "must be 1 or 3");
  if (inference.mapping == ValueMapping::fixed_window) {
    if (!std::isfinite(inference.window_center)) return invalid(table + ".window_center", "must be a finite number");
    if (!(inference.window_width >= 1.0) || !std::isfinite(inference.window_width)) {
      return invalid(table + ".window_width", "must be at least 1 with mapping \"fixed_window\"");
    }
  }
  if (!std::isfinite(inference.scale) || inference.scale == 0.0) return invalid(table + ".scale", "must be a finite non-zero number");
  if (Status s = check_per_channel(table + ".mean", inference.mean, inference.channels, false); !s) return s;
  if (Status s = check_per_channel(table + ".std", inference.stddev, inference.channels, true); !s) return s;
  if (inference.labels.empty()) return invalid(table + ".labels", "list at least one label");
  std::set<std::string> labels;
  for (std::size_t i = 0; i < inference.labels.size(); ++i) {
    const std::string key = table + ".labels[" + std::to_string(i) + "]";
    if (!is_plain_text(inference.labels[i], 64)) return invalid(key, "1-64 printable ASCII characters, no backslash");
    if (!labels.insert(inference.labels[i]).second) return invalid(key, "duplicate label '" + inference.labels[i] + "'");
  }
  if (Status s = check_probability(table + ".threshold", inference.threshold); !s) return s;
  if (Status s = check_probability(table + ".mask_threshold", inference.mask_threshold); !s) return s;
  if (Status s = check_range(table + ".threads", inference.threads, 0, 256); !s) return s;
  return {};
}

Status check_external_module(const ExternalModuleConfig& external) {
  if (external.command.empty()) return invalid("inference.external.command", "required by step 'external'");
  const std::filesystem::path program = external.command.front();
  // The module runs with a clean environment and no PATH search: its program is named exactly.
  if (!program.is_absolute()) return invalid("inference.external.command[0]", "must be an absolute path");
  std::error_code error;
  if (!std::filesystem::is_regular_file(program, error) || ::access(program.c_str(), X_OK) != 0) {
    return invalid("inference.external.command[0]", "not an executable file: " + program.string());
  }
  for (std::size_t i = 0; i < external.command.size(); ++i) {
    if (external.command[i].find('\0') != std::string::npos) {
      return invalid("inference.external.command[" + std::to_string(i) + "]", "must not contain NUL");
    }
  }
  if (Status s = check_range("inference.external.timeout_s", external.timeout_s, 0, 86400); !s) return s;
  if (external.memory_mb != 0 && external.memory_mb < 16) return invalid("inference.external.memory_mb", "0 or at least 16");
  for (std::size_t i = 0; i < external.environment.size(); ++i) {
    const std::string& entry = external.environment[i];
    const auto equals = entry.find('=');
    if (equals == 0 || equals == std::string::npos || entry.find('\0') != std::string::npos) {
      return invalid("inference.external.environment[" + std::to_string(i) + "]", "must be NAME=value");
    }
  }
  for (const auto& [name, value] : external.parameters) {
    const bool plain = !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char ch) {
      return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '-' || ch == '.';
    });
    if (!plain) return invalid("inference.external.parameters." + name, "names are 1-64 of A-Z a-z 0-9 _ - .");
    if (value.find('\0') != std::string::npos) return invalid("inference.external.parameters." + name, "must not contain NUL");
  }
  return {};
}

Status check_step_order(const std::vector<std::string>& steps) {
  const auto burn_in = std::find(steps.begin(), steps.end(), "burn_in");
  for (const char* producer : {"infer", "external"}) {
    const auto step = std::find(steps.begin(), steps.end(), producer);
    if (step != steps.end() && burn_in != steps.end() && step > burn_in) {
      return invalid("processing.steps", std::string("'") + producer + "' must come before 'burn_in' so that its findings are burned in");
    }
  }
  return {};
}

Status check_provenance(const InferenceConfig& inference, const std::string& table) {
  if (!inference.algorithm_name.empty() && !is_plain_text(inference.algorithm_name, 64)) {
    return invalid(table + ".algorithm_name", "1-64 printable ASCII characters, no backslash");
  }
  if (!inference.algorithm_version.empty() && !is_plain_text(inference.algorithm_version, 64)) {
    return invalid(table + ".algorithm_version", "1-64 printable ASCII characters, no backslash");
  }
  return {};
}
Status check_series_infer(const std::string& key, const SeriesInferConfig& infer, const ProcessingConfig& processing) {
  if (Status s = check_inference_model(infer.model, key, "series step 'infer'"); !s) return s;
  if (Status s = check_provenance(infer.model, key); !s) return s;
  // The slices are the channels of an "ndhw" model: one value per pixel and slice, so gray only.
  if (infer.layout == StackLayout::ndhw && infer.model.channels != 1) return invalid(key + ".channels", "must be 1 with layout \"ndhw\"");
  if (Status s = check_range(key + ".depth", infer.depth, 0, 4096); !s) return s;
  if (Status s = check_range(key + ".timeout_s", infer.timeout_s, 0, 86400); !s) return s;
  if (infer.memory_mb != 0 && (infer.memory_mb < 64 || infer.memory_mb > processing.worker_memory_mb)) {
    return invalid(key + ".memory_mb", "0 or between 64 and processing.worker_memory_mb (" +
                                           std::to_string(processing.worker_memory_mb) + ")");
  }
  return {};
}

Status check_series(const std::string& key, const SeriesConfig& series, const ProcessingConfig& processing) {
  if (!series.enabled) return {};
  if (!(series.idle_s > 0.0 && series.idle_s <= 86400.0)) return invalid(key + ".idle", "must be between 0 and 86400 seconds (not 0)");
  if (!(series.max_wait_s >= series.idle_s && series.max_wait_s <= 7 * 86400.0)) {
    return invalid(key + ".max_wait", "must be at least idle and at most 604800 seconds");
  }
  std::set<std::string> seen;
  for (std::size_t i = 0; i < series.steps.size(); ++i) {
    const std::string& step = series.steps[i];
    const std::string step_key = key + ".steps[" + std::to_string(i) + "]";
    if (step != "external" && step != "infer") return invalid(step_key, "unknown series step '" + step + "' (available: external, infer)");
    if (!seen.insert(step).second) return invalid(step_key, "series step '" + step + "' listed twice");
    if (step == "external" && series.external.command.empty()) {
      return invalid(key + ".external.command", "required by series step 'external'");
    }
    if (step == "infer") {
      if (Status s = check_series_infer(key + ".infer", series.infer, processing); !s) return s;
    }
  }
  return {};
}
}  // namespace

bool is_valid_ae_title(const std::string& ae_title) {
  if (ae_title.empty() || ae_title.size() > 16) return false;
  bool only_spaces = true;
  for (const char c : ae_title) {
    if (c < 0x20 || c > 0x7e || c == '\\') return false;
    if (c != ' ') only_spaces = false;
  }
  return !only_spaces;
}

bool is_valid_host(const std::string& host) {
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') bare = bare.substr(1, bare.size() - 2);
  in6_addr ipv6{};
  if (::inet_pton(AF_INET6, bare.c_str(), &ipv6) == 1) return true;
  if (bare != host) return false;  // brackets hold an IPv6 address only
  // A name (RFC 1123; an IPv4 address is one too): dot-separated labels of 1-63 letters, digits, hyphens (and
  // underscores, which some internal DNS zones use), neither starting nor ending with a hyphen; a final dot is
  // allowed.
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  for (std::size_t i = 0; i < host.size(); ++i) {
    const char c = host[i];
    if (c == '.') {
      if (label == 0 || host[i - 1] == '-') return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                    (c == '-' && label > 0);
    if (!ok || ++label > 63) return false;
  }
  return host.back() != '-';
}

bool is_valid_gateway_id(const std::string& id) {
  if (id.empty() || id.size() > 32) return false;
  for (const char c : id) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

NonImagePolicy NodeConfig::non_image_for(const std::string& gateway_id) const {
  const GatewayConfig* gateway = find_gateway(gateway_id);
  return gateway != nullptr && gateway->non_image ? *gateway->non_image : processing.non_image;
}

const GatewayConfig* NodeConfig::find_gateway(const std::string& id) const {
  for (const auto& gateway : gateways) {
    if (gateway.id == id) return &gateway;
  }
  return nullptr;
}

const DestinationConfig* NodeConfig::find_destination(const std::string& name) const {
  for (const auto& destination : destinations) {
    if (destination.name == name) return &destination;
  }
  return nullptr;
}

Status validate(const NodeConfig& c) {
  if (!is_valid_ae_title(c.ae_title)) return invalid("node.ae_title", "not a valid AE title (1-16 characters, no backslash)");
  if (c.input_dir.empty()) return invalid("node.input_dir", "must not be empty");
  if (c.output_dir.empty()) return invalid("node.output_dir", "must not be empty");
  if (c.state_dir.empty()) return invalid("node.state_dir", "must not be empty");
  if (Status s = check_range("node.workers", c.workers, 0, 256); !s) return s;
  if (!(c.log_level == "trace" || c.log_level == "debug" || c.log_level == "info" || c.log_level == "warn" ||
        c.log_level == "error")) {
    return invalid("node.log_level", "must be one of trace, debug, info, warn, error");
  }
  if (Status s = validate_retention(c.retention); !s) return s;

  if (Status s = check_range("scp.port", c.scp.port, 1, 65535); c.scp.enabled && !s) return s;
  if (Status s = check_range("scp.max_associations", c.scp.max_associations, 1, 1024); !s) return s;
  if (Status s = check_range("scp.acse_timeout_s", c.scp.acse_timeout_s, 1, 3600); !s) return s;
  if (Status s = check_range("scp.dimse_timeout_s", c.scp.dimse_timeout_s, 1, 3600); !s) return s;
  if (Status s = check_range("scp.max_pdu", c.scp.max_pdu, 4096, 131072); !s) return s;
  if (Status s = check_range("scp.max_associations_per_peer", c.scp.max_associations_per_peer, 1, 1024); !s) return s;
  if (Status s = check_range("scp.inactivity_timeout_s", c.scp.inactivity_timeout_s, 1, 86400); !s) return s;
  if (Status s = check_range("scp.min_transfer_rate_kib_s", c.scp.min_transfer_rate_kib_s, 0, 1048576); !s) return s;
  if (Status s = check_range("scp.min_transfer_rate_grace_s", c.scp.min_transfer_rate_grace_s, 1, 3600); !s) return s;
  if (Status s = check_range("scp.max_dataset_mb", c.scp.max_dataset_mb, 1, 1048576); !s) return s;
  if (Status s = check_range("scp.tls_handshake_timeout_s", c.scp.tls_handshake_timeout_s, 1, 3600); !s) return s;
  if (c.scp.bind.empty()) return invalid("scp.bind", "must not be empty");
  if (Status s = check_tls("scp.tls", c.scp.tls); !s) return s;
  if (c.scp.tls_port != 0 && !c.scp.tls.enabled) return invalid("scp.tls_port", "set, but scp.tls.enabled is false");
  if (c.scp.tls_port != 0 && c.scp.tls_port == c.scp.port) return invalid("scp.tls_port", "must differ from scp.port");

  if (Status s = validate(c.http); !s) return s;

  if (!c.scp.default_gateway.empty() && !is_valid_gateway_id(c.scp.default_gateway)) {
    return invalid("scp.default_gateway", "not a valid gateway id");
  }

  if (Status s = check_range("input.stability_ms", c.input.stability_ms, 0, 3600000); !s) return s;
  if (Status s = check_range("input.settle_ms", c.input.settle_ms, 0, 3600000); !s) return s;
  if (Status s = check_range("input.rescan_interval_s", c.input.rescan_interval_s, 1, 86400); !s) return s;

  if (c.processing.marker.empty() || c.processing.marker.size() > 32) {
    return invalid("processing.marker", "must be 1-32 characters");
  }
  for (const char ch : c.processing.marker) {
    if (ch < 0x20 || ch > 0x7e || ch == '\\') return invalid("processing.marker", "printable ASCII only, no backslash");
  }
  static const std::set<std::string> kKnownSteps = {"describe", "burn_in", "infer", "external"};
  std::set<std::string> seen_steps;
  for (std::size_t i = 0; i < c.processing.steps.size(); ++i) {
    const std::string& step = c.processing.steps[i];
    const std::string key = "processing.steps[" + std::to_string(i) + "]";
    if (kKnownSteps.count(step) == 0) return invalid(key, "unknown step '" + step + "' (describe, burn_in, infer, external)");
    if (!seen_steps.insert(step).second) return invalid(key, "step '" + step + "' listed twice");
  }
  if (Status s = check_step_order(c.processing.steps); !s) return s;
  const bool infers = seen_steps.count("infer") > 0;
  const bool runs_external = seen_steps.count("external") > 0;
  if (infers) {
    if (Status s = check_inference_model(c.inference, "inference", "step 'infer'"); !s) return s;
  }
  if (runs_external) {
    if (Status s = check_external_module(c.inference.external); !s) return s;
    // The worker's own limit is a hard limit: a module can be given less, never more.
    if (c.inference.external.memory_mb > c.processing.worker_memory_mb) {
      return invalid("inference.external.memory_mb", "must not exceed processing.worker_memory_mb (" +
                                                         std::to_string(c.processing.worker_memory_mb) + ")");
    }
  }
  if (infers || runs_external) {
    if (Status s = check_provenance(c.inference, "inference"); !s) return s;
  }
  if (c.processing.max_image_bytes < 1024) return invalid("processing.max_image_bytes", "must be at least 1024");
  if (Status s = check_range("processing.job_timeout_s", c.processing.job_timeout_s, 1, 86400); !s) return s;
  if (Status s = check_range("processing.io_retry_s", c.processing.io_retry_s, 1, 86400); !s) return s;
  if (c.processing.worker_memory_mb < 256) return invalid("processing.worker_memory_mb", "must be at least 256");

  std::set<std::string> destination_names;
  for (std::size_t i = 0; i < c.destinations.size(); ++i) {
    const auto& d = c.destinations[i];
    const std::string key = "destination[" + std::to_string(i) + "]";
    if (d.name.empty()) return invalid(key + ".name", "must not be empty");
    if (!destination_names.insert(d.name).second) return invalid(key + ".name", "duplicate name '" + d.name + "'");
    if (d.host.empty()) return invalid(key + ".host", "must not be empty");
    if (!is_valid_host(d.host)) {
      return invalid(key + ".host", "'" + d.host + "' is neither an IPv4 or IPv6 address nor a host name");
    }
    if (Status s = check_range(key + ".port", d.port, 1, 65535); !s) return s;
    if (!is_valid_ae_title(d.ae_title)) return invalid(key + ".ae_title", "not a valid AE title");
    if (!d.calling_ae_title.empty() && !is_valid_ae_title(d.calling_ae_title)) {
      return invalid(key + ".calling_ae_title", "not a valid AE title");
    }
    if (Status s = check_range(key + ".connect_timeout_s", d.connect_timeout_s, 1, 3600); !s) return s;
    if (Status s = check_range(key + ".acse_timeout_s", d.acse_timeout_s, 1, 3600); !s) return s;
    if (Status s = check_range(key + ".dimse_timeout_s", d.dimse_timeout_s, 1, 3600); !s) return s;
    if (Status s = check_range(key + ".max_attempts", d.max_attempts, 1, 100); !s) return s;
    if (Status s = check_range(key + ".retry_backoff_s", d.retry_backoff_s, 1, 86400); !s) return s;
    if (Status s = check_tls(key + ".tls", d.tls); !s) return s;
  }

  std::set<std::string> gateway_ids;
  std::set<std::string> calling_titles;
  for (std::size_t i = 0; i < c.gateways.size(); ++i) {
    const auto& g = c.gateways[i];
    const std::string key = "gateway[" + std::to_string(i) + "]";
    if (!is_valid_gateway_id(g.id)) return invalid(key + ".id", "'" + g.id + "' is not a valid id (1-32 of A-Z a-z 0-9 _ -)");
    if (!gateway_ids.insert(g.id).second) return invalid(key + ".id", "duplicate id '" + g.id + "'");
    for (const auto& title : g.calling_ae_titles) {
      if (!is_valid_ae_title(title)) return invalid(key + ".calling_ae_titles", "'" + title + "' is not a valid AE title");
      if (!calling_titles.insert(title).second) {
        return invalid(key + ".calling_ae_titles", "'" + title + "' already maps to another gateway");
      }
    }
    for (const auto& title : g.called_ae_titles) {
      if (!is_valid_ae_title(title)) return invalid(key + ".called_ae_titles", "'" + title + "' is not a valid AE title");
    }
    for (const auto& name : g.destinations) {
      if (destination_names.count(name) == 0) return invalid(key + ".destinations", "unknown destination '" + name + "'");
    }
    if (Status s = check_series(key + ".series", g.series, c.processing); !s) return s;
  }
  if (Status s = check_series("series", c.series, c.processing); !s) return s;
  if (!c.scp.default_gateway.empty() && gateway_ids.count(c.scp.default_gateway) == 0) {
    return invalid("scp.default_gateway", "no [[gateway]] with id '" + c.scp.default_gateway + "'");
  }
  return {};
}

}  // namespace creni::config
