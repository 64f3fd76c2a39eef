#include "creni/app/config_file.hpp"

#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "table_reader.hpp"

namespace creni::app {

namespace {

using config_reading::ConfigError;
using config_reading::fail;
using config_reading::TableReader;

void read_tls(TableReader& parent, config::TlsConfig& tls) {
  const toml::table* table = parent.table("tls");
  if (table == nullptr) return;
  TableReader r(*table, parent.name("tls"));
  r.read("enabled", tls.enabled);
  r.read("certificate", tls.certificate);
  r.read("private_key", tls.private_key);
  r.read("trusted_certificates", tls.trusted_certificates);
  r.read("require_peer_certificate", tls.require_peer_certificate);
}

// A human duration ("30d") or size ("50GB") under `key`; absent keeps `out`.
template <typename Number>
void read_human(TableReader& r, const std::string& key, Number& out, Result<Number> (*parse)(const std::string&)) {
  std::string text;
  r.read(key, text);
  if (text.empty()) return;
  auto parsed = parse(text);
  if (!parsed) fail(r.name(key), parsed.error().message);
  out = parsed.value();
}

// The area keys of [retention] and of a gateway's [gateway.retention] (same names, same forms).
void read_retention_limits(TableReader& r, config::RetentionLimits& limits) {
  read_human(r, "output_max_age", limits.output_max_age_s, config::parse_duration);
  read_human(r, "output_max_bytes", limits.output_max_bytes, config::parse_size);
  read_human(r, "archive_max_age", limits.archive_max_age_s, config::parse_duration);
  read_human(r, "quarantine_max_age", limits.quarantine_max_age_s, config::parse_duration);
  read_human(r, "quarantine_max_bytes", limits.quarantine_max_bytes, config::parse_size);
  r.read("delete_unforwarded", limits.delete_unforwarded);
}

void read_retention(TableReader& top, config::RetentionConfig& retention) {
  const toml::table* table = top.table("retention");
  if (table == nullptr) return;
  TableReader r(*table, "retention");
  read_retention_limits(r, retention.limits);
  read_human(r, "journal_max_age", retention.journal_max_age_s, config::parse_duration);
  read_human(r, "sweep_interval", retention.sweep_interval_s, config::parse_duration);
}

template <typename Enum>
Enum parse_enum(const std::string& key, const std::string& text,
                std::initializer_list<std::pair<const char*, Enum>> choices) {
  std::string names;
  for (const auto& [choice, value] : choices) {
    if (text == choice) return value;
    names += names.empty() ? "" : ", ";
    names += choice;
  }
  fail(key, "'" + text + "' is not one of " + names);
}

config::NonImagePolicy non_image_policy(const std::string& key, const std::string& text) {
  return parse_enum<config::NonImagePolicy>(key, text,
                                            {{"reject", config::NonImagePolicy::reject},
                                             {"pass", config::NonImagePolicy::pass},
                                             {"ignore", config::NonImagePolicy::ignore}});
}

// [inference.external] and [series.external]: the same keys.
void read_external(TableReader& parent, config::ExternalModuleConfig& external) {
  const toml::table* table = parent.table("external");
  if (table == nullptr) return;
  TableReader e(*table, parent.name("external"));
  e.read("command", external.command);
  e.read_integer("timeout_s", external.timeout_s);
  e.read_integer("memory_mb", external.memory_mb);
  e.read("environment", external.environment);
  e.read("parameters", external.parameters);
}

// The keys [inference] and [series.infer] share, with the same meaning; `ai` holds the values to override.
void read_model_keys(TableReader& r, config::InferenceConfig& ai) {
  r.read("model", ai.model);
  std::vector<double> input_size = {static_cast<double>(ai.input_width), static_cast<double>(ai.input_height)};
  r.read("input_size", input_size);
  if (input_size.size() != 2) fail(r.name("input_size"), "must be [width, height]");
  for (std::size_t i = 0; i < 2; ++i) {
    if (input_size[i] != std::floor(input_size[i]) || input_size[i] < 1 || input_size[i] > 8192) {
      fail(r.name("input_size") + "[" + std::to_string(i) + "]", "must be a whole number between 1 and 8192");
    }
  }
  ai.input_width = static_cast<int>(input_size[0]);
  ai.input_height = static_cast<int>(input_size[1]);
  r.read_integer("channels", ai.channels);
  std::string mapping = ai.mapping == config::ValueMapping::raw            ? "raw"
                        : ai.mapping == config::ValueMapping::fixed_window ? "fixed_window"
                                                                           : "window";
  r.read("mapping", mapping);
  ai.mapping = parse_enum<config::ValueMapping>(r.name("mapping"), mapping,
                                                {{"window", config::ValueMapping::window},
                                                 {"fixed_window", config::ValueMapping::fixed_window},
                                                 {"raw", config::ValueMapping::raw}});
  r.read("window_center", ai.window_center);
  r.read("window_width", ai.window_width);
  r.read("scale", ai.scale);
  r.read("mean", ai.mean);
  r.read("std", ai.stddev);
  r.read("labels", ai.labels);
  r.read("threshold", ai.threshold);
  r.read("output", ai.output);
  r.read_integer("threads", ai.threads);
  r.read("algorithm_name", ai.algorithm_name);
  r.read("algorithm_version", ai.algorithm_version);
}

// [series.infer] (or [gateway.series.infer]): the model keys of [inference], and the stack's own.
void read_series_infer(TableReader& parent, config::SeriesInferConfig& infer) {
  const toml::table* table = parent.table("infer");
  if (table == nullptr) return;
  TableReader r(*table, parent.name("infer"));
  read_model_keys(r, infer.model);
  std::string layout = infer.layout == config::StackLayout::ndhw ? "ndhw" : "ncdhw";
  r.read("layout", layout);
  infer.layout = parse_enum<config::StackLayout>(r.name("layout"), layout,
                                                 {{"ncdhw", config::StackLayout::ncdhw}, {"ndhw", config::StackLayout::ndhw}});
  r.read_integer("depth", infer.depth);
  r.read_integer("timeout_s", infer.timeout_s);
  r.read_integer("memory_mb", infer.memory_mb);
}

void read_output_study(TableReader& r, config::OutputStudy& study) {
  std::string text = study == config::OutputStudy::original ? "original" : "derived";
  r.read("study", text);
  study = parse_enum<config::OutputStudy>(r.name("study"), text,
                                          {{"derived", config::OutputStudy::derived},
                                           {"original", config::OutputStudy::original}});
}

// [series] or a gateway's [gateway.series]: `series` holds the values to override (the defaults, or [series]).
void read_series(TableReader& r, config::SeriesConfig& series) {
  series.enabled = true;
  r.read("idle", series.idle_s);
  r.read("max_wait", series.max_wait_s);
  r.read("complete_on_release", series.complete_on_release);
  std::string late = series.late == config::LatePolicy::separate ? "separate" : "reopen";
  r.read("late", late);
  series.late = parse_enum<config::LatePolicy>(r.name("late"), late,
                                               {{"reopen", config::LatePolicy::reopen},
                                                {"separate", config::LatePolicy::separate}});
  const bool steps_given = r.has("steps");
  r.read("steps", series.steps);
  read_external(r, series.external);
  read_series_infer(r, series.infer);
  // Two lines switch a series module on: [series.external] and its command; likewise [series.infer] and a model.
  if (!steps_given && series.steps.empty()) {
    if (!series.external.command.empty()) series.steps.push_back("external");
    if (!series.infer.model.model.empty()) series.steps.push_back("infer");
  }
}

config::NodeConfig read_config(const toml::table& root) {
  config::NodeConfig c;
  TableReader top(root, "");

  if (const toml::table* node = top.table("node")) {
    TableReader r(*node, "node");
    r.read("ae_title", c.ae_title);
    r.read("input_dir", c.input_dir);
    r.read("output_dir", c.output_dir);
    r.read("state_dir", c.state_dir);
    r.read_integer("workers", c.workers);
    r.read_integer("min_free_mb", c.min_free_mb);
    r.read("quarantine", c.quarantine);
    r.read("log_level", c.log_level);
  }

  if (const toml::table* scp = top.table("scp")) {
    TableReader r(*scp, "scp");
    r.read("enabled", c.scp.enabled);
    r.read("bind", c.scp.bind);
    r.read_integer("port", c.scp.port);
    r.read_integer("max_associations", c.scp.max_associations);
    r.read_integer("max_associations_per_peer", c.scp.max_associations_per_peer);
    r.read_integer("inactivity_timeout_s", c.scp.inactivity_timeout_s);
    r.read_integer("min_transfer_rate_kib_s", c.scp.min_transfer_rate_kib_s);
    r.read_integer("min_transfer_rate_grace_s", c.scp.min_transfer_rate_grace_s);
    r.read_integer("max_dataset_mb", c.scp.max_dataset_mb);
    r.read_integer("tls_handshake_timeout_s", c.scp.tls_handshake_timeout_s);
    r.read_integer("acse_timeout_s", c.scp.acse_timeout_s);
    r.read_integer("dimse_timeout_s", c.scp.dimse_timeout_s);
    r.read_integer("max_pdu", c.scp.max_pdu);
    r.read("default_gateway", c.scp.default_gateway);
    r.read_integer("tls_port", c.scp.tls_port);
    read_tls(r, c.scp.tls);
  }

  if (const toml::table* http = top.table("http")) {
    TableReader r(*http, "http");
    r.read("enabled", c.http.enabled);
    r.read("listen", c.http.listen);
    r.read("token_file", c.http.token_file);
  }

  if (const toml::table* input = top.table("input")) {
    TableReader r(*input, "input");
    r.read("enabled", c.input.enabled);
    r.read_integer("stability_ms", c.input.stability_ms);
    r.read_integer("settle_ms", c.input.settle_ms);
    r.read_integer("rescan_interval_s", c.input.rescan_interval_s);
    std::string disposition = "keep";
    r.read("after_processing", disposition);
    c.input.after_processing = parse_enum<config::InputDisposition>(
        "input.after_processing", disposition,
        {{"keep", config::InputDisposition::keep}, {"delete", config::InputDisposition::remove},
         {"archive", config::InputDisposition::archive}});
    r.read("discover_gateways", c.input.discover_gateways);
  }

  if (const toml::table* processing = top.table("processing")) {
    TableReader r(*processing, "processing");
    r.read("marker", c.processing.marker);
    r.read("steps", c.processing.steps);
    r.read_integer("max_image_bytes", c.processing.max_image_bytes);
    std::string non_image = "reject";
    r.read("non_image", non_image);
    c.processing.non_image = non_image_policy("processing.non_image", non_image);
    r.read_integer("job_timeout_s", c.processing.job_timeout_s);
    r.read_integer("io_retry_s", c.processing.io_retry_s);
    r.read_integer("worker_memory_mb", c.processing.worker_memory_mb);
  }

  if (const toml::table* inference = top.table("inference")) {
    TableReader r(*inference, "inference");
    config::InferenceConfig& ai = c.inference;
    read_model_keys(r, ai);
    std::string layout = ai.layout == config::TensorLayout::nhwc ? "nhwc" : "nchw";
    r.read("layout", layout);
    ai.layout = parse_enum<config::TensorLayout>("inference.layout", layout,
                                                 {{"nchw", config::TensorLayout::nchw}, {"nhwc", config::TensorLayout::nhwc}});
    std::string task = "classification";
    r.read("task", task);
    ai.task = parse_enum<config::InferenceTask>("inference.task", task,
                                                {{"classification", config::InferenceTask::classification},
                                                 {"segmentation", config::InferenceTask::segmentation}});
    r.read("mask_threshold", ai.mask_threshold);
    std::string frames = "all";
    r.read("frames", frames);
    ai.frames = parse_enum<config::FrameSelection>("inference.frames", frames,
                                                   {{"all", config::FrameSelection::all},
                                                    {"first", config::FrameSelection::first},
                                                    {"middle", config::FrameSelection::middle}});
    read_external(r, ai.external);
  }

  if (const toml::table* output = top.table("output")) {
    TableReader r(*output, "output");
    read_output_study(r, c.output_study);
  }
  if (const toml::table* series = top.table("series")) {
    TableReader r(*series, "series");
    read_series(r, c.series);
  }

  read_retention(top, c.retention);

  if (const toml::array* gateways = top.array_of_tables("gateway")) {
    for (std::size_t i = 0; i < gateways->size(); ++i) {
      TableReader r(*(*gateways)[i].as_table(), "gateway[" + std::to_string(i) + "]");
      config::GatewayConfig g;
      r.read("id", g.id);
      r.read("calling_ae_titles", g.calling_ae_titles);
      r.read("called_ae_titles", g.called_ae_titles);
      r.read("allowed_addresses", g.allowed_addresses);
      std::string layout = "nested";
      r.read("output_layout", layout);
      g.output_layout = parse_enum<config::OutputLayout>(
          r.name("output_layout"), layout, {{"nested", config::OutputLayout::nested}, {"flat", config::OutputLayout::flat}});
      r.read("destinations", g.destinations);
      std::string non_image;
      r.read("non_image", non_image);
      if (!non_image.empty()) g.non_image = non_image_policy(r.name("non_image"), non_image);
      g.output_study = c.output_study;
      if (const toml::table* output = r.table("output")) {
        TableReader o(*output, r.name("output"));
        read_output_study(o, g.output_study);
      }
      g.series = c.series;
      if (const toml::table* series = r.table("series")) {
        TableReader s(*series, r.name("series"));
        read_series(s, g.series);
      }
      if (const toml::table* retention = r.table("retention")) {
        TableReader limits(*retention, r.name("retention"));
        g.retention = c.retention.limits;
        read_retention_limits(limits, *g.retention);
      }
      c.gateways.push_back(std::move(g));
    }
  }

  if (const toml::array* destinations = top.array_of_tables("destination")) {
    for (std::size_t i = 0; i < destinations->size(); ++i) {
      TableReader r(*(*destinations)[i].as_table(), "destination[" + std::to_string(i) + "]");
      config::DestinationConfig d;
      r.read("name", d.name);
      r.read("host", d.host);
      r.read_integer("port", d.port);
      r.read("ae_title", d.ae_title);
      r.read("calling_ae_title", d.calling_ae_title);
      r.read_integer("connect_timeout_s", d.connect_timeout_s);
      r.read_integer("acse_timeout_s", d.acse_timeout_s);
      r.read_integer("dimse_timeout_s", d.dimse_timeout_s);
      r.read_integer("max_attempts", d.max_attempts);
      r.read_integer("retry_backoff_s", d.retry_backoff_s);
      std::string sharing = "none";
      r.read("share_association", sharing);
      d.share_association = parse_enum<config::AssociationSharing>(
          r.name("share_association"), sharing,
          {{"none", config::AssociationSharing::none}, {"study", config::AssociationSharing::study}});
      read_tls(r, d.tls);
      c.destinations.push_back(std::move(d));
    }
  }
  return c;
}

}  // namespace

config::NodeConfig embedded_defaults() {
  config::NodeConfig c;
  config::GatewayConfig gateway;
  gateway.id = "1";
  c.gateways.push_back(gateway);
  c.scp.default_gateway = "1";
  return c;
}

Result<config::NodeConfig> parse_config(std::string_view toml_text, std::string_view source_name) {
  const std::string source(source_name);
  try {
    const toml::table root = toml::parse(toml_text, source);
    config::NodeConfig parsed = read_config(root);
    if (Status valid = config::validate(parsed); !valid) {
      return make_error("invalid_config", source + ": " + valid.error().message);
    }
    return parsed;
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return make_error("invalid_config", where.str());
  } catch (const ConfigError& e) {
    return make_error("invalid_config", source + ": " + e.what());
  }
}

Result<config::NodeConfig> load_config_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("invalid_config", "cannot read config file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path.string());
}

}  // namespace creni::app
