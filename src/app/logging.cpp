#include "creni/app/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

namespace creni::app {

namespace {

// The message, escaped: for JSON every character JSON requires; for text only control characters, so that a
// PatientName with "\n" or ANSI escapes stays one harmless line.
class EscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  explicit EscapedMessage(bool json) : json_(json) {}

  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    for (const char c : msg.payload) {
      const auto byte = static_cast<unsigned char>(c);
      if (json_ && (c == '"' || c == '\\')) {
        dest.push_back('\\');
        dest.push_back(c);
      } else if (byte < 0x20 || byte == 0x7f) {
        char escaped[8];
        const int n = std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
        dest.append(escaped, escaped + n);
      } else {
        dest.push_back(c);
      }
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
