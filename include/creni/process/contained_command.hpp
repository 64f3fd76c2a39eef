#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "creni/common/result.hpp"

namespace creni::process {

/// What a contained command may use.
struct CommandLimits {
  std::chrono::milliseconds timeout{60000};  ///< wall clock, from start to exit
  std::uint64_t memory_bytes = 0;            ///< RLIMIT_AS of the command; 0 = inherited (the worker's)
  std::size_t stderr_tail_bytes = 2048;      ///< how much of the end of its stderr is kept
};

/// How a contained command ended.
struct CommandOutcome {
  enum class End { exited, signaled, timed_out };
  End end = End::exited;
  int code = 0;                ///< exit status (exited) or signal number (signaled)
  std::string stderr_tail;     ///< the last stderr_tail_bytes of what it wrote to stderr, as written
  double seconds = 0.0;        ///< wall-clock run time
};

/// Runs `argv` (argv[0] an absolute path; never through a shell) to completion in `work_dir` and returns how it
/// ended. The command gets:
///  - exactly `environment` as its environment (nothing of ours leaks: a clean environment);
///  - only descriptors 0-2: stdin and stdout /dev/null, stderr an unlinked file whose tail is returned;
///  - its own process group, killed as a whole (SIGKILL) on timeout and after the command exits, so helpers it
///    started do not outlive it; SIGKILL too if the calling process dies (PR_SET_PDEATHSIG);
///  - RLIMIT_AS = limits.memory_bytes (never above the caller's hard limit), no core dumps, default signal
///    dispositions and an empty signal mask.
/// Blocks the calling thread. Error "external_failed" when the command cannot be started (the message says why:
/// not found, not executable, ...). Thread-safety: may be called from several threads at once.
[[nodiscard]] Result<CommandOutcome> run_contained(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& environment,
                                                   const std::filesystem::path& work_dir, const CommandLimits& limits);

/// A printable, one-line form of a command's stderr tail for rejection reasons: control characters and bytes
/// outside ASCII become '?', line breaks " | ", trimmed, at most `max_chars` (the end is kept).
[[nodiscard]] std::string printable_tail(const std::string& text, std::size_t max_chars = 600);

}  // namespace creni::process
