#pragma once

// The tiny ONNX models of make_test_models.py, built at test time with Debian's python3-onnx (nothing downloaded).

#include <chrono>
#include <filesystem>
#include <string>

#include "harness/harness.hpp"

namespace creni::process::test_models {

/// Builds every test model into `folder`; returns "" or why it could not (shown by the test that needs them).
inline std::string build_test_models(const std::filesystem::path& folder) {
  constexpr const char* kPython = "/usr/bin/python3";
  const auto made = harness::run_command(
      {kPython, std::string(CRENI_SOURCE_DIR) + "/tests/process/make_test_models.py", folder.string()},
      std::chrono::seconds(60));
  if (made.exit_code == 0) return {};
  return "cannot build the test models with " + std::string(kPython) +
         " (install python3-onnx and python3-numpy: scripts/install-deps.sh test): exit " +
         std::to_string(made.exit_code) + ": " + made.err;
}

}  // namespace creni::process::test_models
