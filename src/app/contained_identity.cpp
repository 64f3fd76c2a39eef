#include "contained_identity.hpp"

#include <iostream>

#include "creni/app/cli.hpp"
#include "creni/dicom/canonical_identity.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/process/contained_command.hpp"

namespace creni::app {

pipeline::JournalArrivalSink::CanonicalIdentity contained_canonical_identity(std::string executable,
                                                                              std::uint64_t memory_bytes,
                                                                              std::chrono::milliseconds timeout) {
  return [executable = std::move(executable), memory_bytes, timeout](const std::filesystem::path& file)
             -> Result<std::string> {
    process::CommandLimits limits;
    limits.timeout = timeout;
    limits.memory_bytes = memory_bytes;
    limits.stderr_tail_bytes = 4096;
    auto ran = process::run_contained({executable, "canonical-hash", file.string()}, {}, "/", limits);
    if (!ran) return ran.error();
    const auto& outcome = ran.value();
    if (outcome.end != process::CommandOutcome::End::exited || outcome.code != 0) {
      return make_error("canonical_identity_failed", process::printable_tail(outcome.stderr_tail, 300));
    }
    const auto at = outcome.stderr_tail.rfind(kCanonicalHashLine);
    if (at == std::string::npos) return make_error("canonical_identity_failed", "no identity in the helper's output");
    const std::string hash = outcome.stderr_tail.substr(at + kCanonicalHashLine.size(), 64);
    if (hash.size() != 64 || hash.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return make_error("canonical_identity_failed", "malformed identity from the helper");
    }
    return hash;
  };
}

int command_canonical_hash(const std::string& file) {
  const dicom::DcmtkRuntime runtime;  // codecs, so that compressed pixel data is compared decoded
  auto hash = dicom::canonical_content_hash(file);
  if (!hash) {
    std::cerr << "creni-node canonical-hash: " << hash.error().describe() << "\n";
    return kExitFailure;
  }
  std::cerr << kCanonicalHashLine << hash.value() << "\n";
  return kExitOk;
}

}  // namespace creni::app
