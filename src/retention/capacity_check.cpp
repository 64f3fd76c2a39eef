#include "creni/retention/capacity_check.hpp"

#include <cstdio>
#include <map>

namespace creni::retention {

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

std::string gigabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return text;
}

// What the caps let one volume hold, and the terms that add up to it.
struct VolumeBudget {
  std::uint64_t size_bytes = 0;
  std::vector<std::string> folders;
  std::uint64_t capped_bytes = 0;
  bool has_cap = false;
  std::vector<std::string> terms;
};

std::uint64_t journal_bytes(const std::filesystem::path& state_dir) {
  std::uint64_t total = 0;
  for (const char* name : {"journal.db", "journal.db-wal", "journal.db-shm"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(state_dir / name, ec);
    if (!ec) total += size;
  }
  return total;
}

}  // namespace

std::vector<std::string> capacity_warnings(const config::NodeConfig& config, const VolumeLookup& volume_of) {
  std::map<std::uint64_t, VolumeBudget> volumes;
  const auto budget = [&](const std::filesystem::path& folder, const char* label) -> VolumeBudget* {
    const auto volume = volume_of(folder);
    if (!volume) return nullptr;
    VolumeBudget& entry = volumes[volume->device];
    entry.size_bytes = volume->size_bytes;
    if (entry.folders.empty() || entry.folders.back() != label) entry.folders.emplace_back(label);
    return &entry;
  };
  VolumeBudget* output = budget(config.output_dir, "OUTPUT");
  VolumeBudget* state = budget(config.state_dir, "the state folder");
  const auto cap = [](VolumeBudget* volume, std::uint64_t bytes, const std::string& term) {
    if (volume == nullptr || bytes == config::kNoSizeLimit) return;
    volume->capped_bytes += bytes;
    volume->has_cap = true;
    volume->terms.push_back(term + " " + gigabytes(bytes));
  };
  for (const auto& gateway : config.gateways) {
    const auto& limits = config.retention_for(gateway.id);
    cap(output, limits.output_max_bytes, "gateway " + gateway.id + " output_max_bytes");
    cap(state, limits.quarantine_max_bytes, "gateway " + gateway.id + " quarantine_max_bytes");
  }
  if (state != nullptr) {
    // The journal has no cap of its own; what it holds now is the least it will take.
    const auto journal = journal_bytes(config.state_dir);
    state->capped_bytes += journal;
    state->terms.push_back("the journal now " + gigabytes(journal));
  }

  std::vector<std::string> warnings;
  const std::uint64_t reserve = config.min_free_mb * kMiB;
  for (const auto& [device, volume] : volumes) {
    if (!volume.has_cap) continue;
    const std::uint64_t usable = volume.size_bytes > reserve ? volume.size_bytes - reserve : 0;
    if (volume.capped_bytes <= usable) continue;
    std::string folders = volume.folders.front();
    for (std::size_t i = 1; i < volume.folders.size(); ++i) folders += " and " + volume.folders[i];
    std::string terms = volume.terms.front();
    for (std::size_t i = 1; i < volume.terms.size(); ++i) terms += ", " + volume.terms[i];
    warnings.push_back("retention: the size caps on the volume of " + folders + " add up to " +
                       gigabytes(volume.capped_bytes) + " (" + terms + "), more than the " + gigabytes(usable) +
                       " it can hold above node.min_free_mb (" + std::to_string(config.min_free_mb) +
                       " MiB of " + gigabytes(volume.size_bytes) +
                       "): free space falls below the watermark and intake stops before these caps remove "
                       "anything; lower the caps or min_free_mb");
  }
  return warnings;
}

}  // namespace creni::retention
