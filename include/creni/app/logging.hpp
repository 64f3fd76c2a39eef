#pragma once

#include <string>

namespace creni::app {

enum class LogFormat { text, json };

/// Names of the per-module loggers registered by setup_logging (DESIGN.md rule 10).
inline constexpr const char* kModuleLoggers[] = {"app",     "config", "dicom",   "sqlite",   "journal", "catalog",
                                                 "ingest",  "process", "output", "forward",  "pipeline", "series",
                                                 "retention"};

/// Sets up spdlog once for the process: one sink on stderr shared by every module logger, one event per line.
/// Text: "2026-11-24T10:00:00.123Z info [ingest] message"; JSON lines: {"time","level","logger","pid","msg"}.
/// Control characters in messages are escaped so that DICOM strings can never forge or split log lines.
/// Call from main() before any thread starts.
void setup_logging(LogFormat format, const std::string& level);

}  // namespace creni::app
