#include "creni/pipeline/worker_protocol.hpp"

#include <charconv>
#include <vector>

namespace creni::pipeline {

namespace {

std::string escape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (const char c : field) {
    switch (c) {
      case '%': out += "%25"; break;
      case '\t': out += "%09"; break;
      case '\n': out += "%0A"; break;
      case '\r': out += "%0D"; break;
      default: out += c;
    }
  }
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Result<std::string> unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '%') {
      out += field[i];
      continue;
    }
    if (i + 2 >= field.size()) return make_error("protocol_error", "truncated escape");
    const int high = hex_value(field[i + 1]);
    const int low = hex_value(field[i + 2]);
    if (high < 0 || low < 0) return make_error("protocol_error", "bad escape");
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

std::string join(std::initializer_list<std::string_view> fields) {
  std::string line;
  for (const auto field : fields) {
    if (!line.empty()) line += '\t';
    line += escape(field);
  }
  line += '\n';
  return line;
}

// The fields of `line`; exactly `expected_fields` of them, or at least that many when `more_allowed`.
Result<std::vector<std::string>> split(std::string_view line, std::string_view verb, std::size_t expected_fields,
                                       bool more_allowed = false) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t tab = line.find('\t', start);
    auto field = unescape(line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (!field) return field.error();
    fields.push_back(std::move(field).value());
    if (tab == std::string_view::npos) break;
    start = tab + 1;
  }
  if (fields.empty() || fields[0] != verb) return make_error("protocol_error", "expected " + std::string(verb));
  if (fields.size() < expected_fields || (!more_allowed && fields.size() != expected_fields)) {
    return make_error("protocol_error", std::string(verb) + " with " + std::to_string(fields.size()) + " fields");
  }
  return fields;
}

Result<std::int64_t> to_int(const std::string& text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return make_error("protocol_error", "not a number");
  return value;
}

std::string_view verb_of(std::string_view line) { return line.substr(0, line.find('\t')); }

// The catalog entry travels as extra DONE fields "<table>.<column>=<value>" (each field escaped like any other).
constexpr std::pair<const char*, std::vector<std::pair<std::string, std::string>> catalog::CatalogRecord::*> kTables[] = {
    {"patient", &catalog::CatalogRecord::patient},
    {"study", &catalog::CatalogRecord::study},
    {"series", &catalog::CatalogRecord::series},
    {"image", &catalog::CatalogRecord::image}};

Status add_catalog_field(catalog::CatalogRecord& record, const std::string& field);

// The INPUT mirror's entry uses the same form behind this prefix.
constexpr std::string_view kMirrorPrefix = "input:";

void add_catalog_fields(const catalog::CatalogRecord& record, std::string_view prefix, std::vector<std::string>& fields) {
  for (const auto& [table, columns] : kTables) {
    for (const auto& [column, value] : record.*columns) {
      fields.push_back(std::string(prefix) + table + "." + column + "=" + value);
    }
  }
}

Status add_catalog_field(JobReply& reply, std::string field) {
  catalog::CatalogRecord* record = &reply.catalog_entry;
  if (field.compare(0, kMirrorPrefix.size(), kMirrorPrefix) == 0) {
    record = &reply.mirror_catalog_entry;
    field.erase(0, kMirrorPrefix.size());
  }
  return add_catalog_field(*record, field);
}

Status add_catalog_field(catalog::CatalogRecord& record, const std::string& field) {
  const auto dot = field.find('.');
  const auto equals = field.find('=');
  if (dot == std::string::npos || equals == std::string::npos || equals < dot) {
    return make_error("protocol_error", "bad catalog field");
  }
  const std::string table = field.substr(0, dot);
  for (const auto& [name, columns] : kTables) {
    if (table == name) {
      (record.*columns).emplace_back(field.substr(dot + 1, equals - dot - 1), field.substr(equals + 1));
      return {};
    }
  }
  return make_error("protocol_error", "unknown catalog table " + table);
}

}  // namespace

std::string encode_ready(long pid) { return join({"READY", std::to_string(pid)}); }

std::string encode_request(const JobRequest& r) {
  return join({"JOB", std::to_string(r.job_id), r.gateway_id, r.input.string(), r.output_root.string(),
               r.layout == config::OutputLayout::flat ? "flat" : "nested", r.mirror_root.string(),
               r.expected_sop_instance_uid, r.expected_content_hash});
}

std::string encode_reply(const JobReply& r) {
  if (!r.ok) return join({"FAIL", std::to_string(r.job_id), r.reason, r.detail});
  std::string line = join({"DONE", std::to_string(r.job_id), r.output.string(), r.staged_output.string(),
                           r.source.sop_instance_uid,
                           r.source.study_instance_uid, r.source.series_instance_uid, r.source.sop_class_uid,
                           r.result.sop_instance_uid, r.result.study_instance_uid, r.result.series_instance_uid,
                           r.mirrored_input.string(), std::to_string(r.inference_us)});
  line.pop_back();  // the newline: catalog fields follow
  std::vector<std::string> fields;
  add_catalog_fields(r.catalog_entry, "", fields);
  add_catalog_fields(r.mirror_catalog_entry, kMirrorPrefix, fields);
  for (const std::string& field : fields) line += "\t" + escape(field);
  return line + "\n";
}

Result<long> decode_ready(std::string_view line) {
  auto fields = split(line, "READY", 2);
  if (!fields) return fields.error();
  auto pid = to_int(fields.value()[1]);
  if (!pid) return pid.error();
  return static_cast<long>(pid.value());
}

Result<JobRequest> decode_request(std::string_view line) {
  auto fields = split(line, "JOB", 9);
  if (!fields) return fields.error();
  auto& f = fields.value();
  auto id = to_int(f[1]);
  if (!id) return id.error();
  if (f[5] != "nested" && f[5] != "flat") return make_error("protocol_error", "unknown layout " + f[5]);
  return JobRequest{id.value(), f[2], f[3], f[4], f[5] == "flat" ? config::OutputLayout::flat : config::OutputLayout::nested,
                    f[6], f[7], f[8]};
}

Result<JobReply> decode_reply(std::string_view line) {
  const bool ok = verb_of(line) == "DONE";
  auto fields = split(line, ok ? "DONE" : "FAIL", ok ? 13 : 4, ok);
  if (!fields) return fields.error();
  auto& f = fields.value();
  auto id = to_int(f[1]);
  if (!id) return id.error();
  JobReply reply;
  reply.job_id = id.value();
  reply.ok = ok;
  if (!ok) {
    reply.reason = f[2];
    reply.detail = f[3];
    return reply;
  }
  reply.output = f[2];
  reply.staged_output = f[3];
  reply.source.sop_instance_uid = f[4];
  reply.source.study_instance_uid = f[5];
  reply.source.series_instance_uid = f[6];
  reply.source.sop_class_uid = f[7];
  reply.result.sop_class_uid = f[7];
  reply.result.sop_instance_uid = f[8];
  reply.result.study_instance_uid = f[9];
  reply.result.series_instance_uid = f[10];
  reply.mirrored_input = f[11];
  auto inference_us = to_int(f[12]);
  if (!inference_us) return inference_us.error();
  reply.inference_us = inference_us.value();
  for (std::size_t i = 13; i < f.size(); ++i) {
    if (Status added = add_catalog_field(reply, f[i]); !added) return added.error();
  }
  return reply;
}

}  // namespace creni::pipeline
