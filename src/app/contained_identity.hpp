#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "creni/pipeline/journal_arrival_sink.hpp"

namespace creni::app {

/// The first line `creni-node canonical-hash` writes to stderr before the identity.
inline constexpr std::string_view kCanonicalHashLine = "canonical-hash ";

/// A CanonicalIdentity that runs `<executable> canonical-hash FILE` as a contained process (clean environment,
/// RLIMIT_AS `memory_bytes`, killed after `timeout`): the data set is parsed and its pixel data decoded there,
/// never in the node (DESIGN.md). Thread-safe.
[[nodiscard]] pipeline::JournalArrivalSink::CanonicalIdentity contained_canonical_identity(
    std::string executable, std::uint64_t memory_bytes, std::chrono::milliseconds timeout);

/// `creni-node canonical-hash FILE`: writes kCanonicalHashLine and the identity to stderr; exit 0, else 1 with the
/// reason.
int command_canonical_hash(const std::string& file);

}  // namespace creni::app
