#include "creni/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string_view>

namespace creni::app {

namespace {

// Length of the well-formed UTF-8 sequence starting at `p` (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF), or 0 when the bytes there are not one.
std::size_t utf8_sequence_length(const unsigned char* p, std::size_t left) {
  const unsigned char lead = p[0];
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (left < length || p[1] < low || p[1] > high) return 0;
  for (std::size_t i = 2; i < length; ++i) {
    if (p[i] < 0x80 || p[i] > 0xBF) return 0;
  }
  return length;
}

// The message, escaped: for JSON every character JSON requires; for text only control characters, so that a
// PatientName with "\n" or ANSI escapes stays one harmless line. Bytes that are not UTF-8 (an AE title or UID a
// peer filled with anything) become U+FFFD in both, so that every line is valid UTF-8 and, in JSON, valid JSON.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  explicit EscapedMessage(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    const auto* bytes = reinterpret_cast<const unsigned char*>(msg.payload.data());
    const std::size_t size = msg.payload.size();
    for (std::size_t i = 0; i < size;) {
      const unsigned char byte = bytes[i];
      if (byte >= 0x80) {
        const std::size_t length = utf8_sequence_length(bytes + i, size - i);
        if (length == 0) {
          dest.append(kReplacement.data(), kReplacement.data() + kReplacement.size());
          ++i;
        } else {
          dest.append(msg.payload.data() + i, msg.payload.data() + i + length);
          i += length;
        }
        continue;
      }
      if (json_ && (byte == '"' || byte == '\\')) {
        dest.push_back('\\');
        dest.push_back(static_cast<char>(byte));
      } else if (byte < 0x20 || byte == 0x7f) {
        char escaped[8];
        const int n = std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
        dest.append(escaped, escaped + n);
      } else {
        dest.push_back(static_cast<char>(byte));
      }
      ++i;
    }
  }

  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<EscapedMessage>(json_);
  }

 private:
  bool json_;
};

}  // namespace

void setup_logging(LogFormat format, const std::string& level) {
  const bool json = format == LogFormat::json;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<EscapedMessage>('*', json);
  formatter->set_pattern(json ? R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","pid":%P,"msg":"%*"})"
                              : "%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %*");

  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(std::move(formatter));

  spdlog::drop_all();
  const auto parsed_level = spdlog::level::from_str(level);
  for (const char* name : kModuleLoggers) {
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(parsed_level);
    logger->flush_on(spdlog::level::info);
    spdlog::register_logger(logger);
  }
  auto fallback = std::make_shared<spdlog::logger>("node", sink);
  fallback->set_level(parsed_level);
  fallback->flush_on(spdlog::level::info);
  spdlog::set_default_logger(fallback);
}

}  // namespace creni::app
