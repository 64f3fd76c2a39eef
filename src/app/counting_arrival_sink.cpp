#include "creni/app/counting_arrival_sink.hpp"

#include <filesystem>
#include <system_error>

namespace creni::app {

namespace {

std::string_view outcome_name(ingest::AcceptOutcome outcome) {
  switch (outcome) {
    case ingest::AcceptOutcome::accepted: return "accepted";
    case ingest::AcceptOutcome::duplicate: return "duplicate";
    case ingest::AcceptOutcome::conflict: return "conflict";
    case ingest::AcceptOutcome::rejected: return "rejected";
    case ingest::AcceptOutcome::out_of_resources: return "out_of_resources";
  }
  return "rejected";
}

// Measured before the sink takes the file over (it may move it); only SCP bytes are counted.
std::uint64_t received_bytes(const ingest::Arrival& arrival) {
  if (arrival.source != ingest::ArrivalSource::scp) return 0;
  std::error_code ec;
  const auto size = std::filesystem::file_size(arrival.path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

}  // namespace

ingest::AcceptResult CountingArrivalSink::accept(const ingest::Arrival& arrival) {
  const std::uint64_t bytes = received_bytes(arrival);
  ingest::AcceptResult result = inner_.accept(arrival);
  count(arrival, bytes, result);
  return result;
}

std::vector<ingest::AcceptResult> CountingArrivalSink::accept_all(const std::vector<ingest::Arrival>& arrivals) {
  std::vector<std::uint64_t> bytes;
  bytes.reserve(arrivals.size());
  for (const auto& arrival : arrivals) bytes.push_back(received_bytes(arrival));
  std::vector<ingest::AcceptResult> results = inner_.accept_all(arrivals);
  for (std::size_t i = 0; i < results.size() && i < arrivals.size(); ++i) count(arrivals[i], bytes[i], results[i]);
  return results;
}

void CountingArrivalSink::count(const ingest::Arrival& arrival, std::uint64_t bytes, const ingest::AcceptResult& result) {
  const std::string_view door = arrival.source == ingest::ArrivalSource::scp ? "scp" : "folder";
  metrics_.arrived(arrival.gateway_id, door, outcome_name(result.outcome), bytes);
}

}  // namespace creni::app
