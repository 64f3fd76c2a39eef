#include "peer_shares.hpp"

namespace creni::ingest {

namespace {

void give_back_one(std::map<std::string, int>& counts, const std::string& key) {
  const auto it = counts.find(key);
  if (it == counts.end()) return;
  if (--it->second <= 0) counts.erase(it);
}

}  // namespace

std::optional<std::string> PeerShares::take(const std::string& address, const std::string& calling_ae) {
  const auto held = [](const std::map<std::string, int>& counts, const std::string& key) {
    const auto it = counts.find(key);
    return it == counts.end() ? 0 : it->second;
  };
  if (held(by_address_, address) >= per_peer_) {
    return std::to_string(per_peer_) + " associations from " + address + " already (max_associations_per_peer)";
  }
  if (held(by_calling_ae_, calling_ae) >= per_peer_) {
    return std::to_string(per_peer_) + " associations with this calling AE title already (max_associations_per_peer)";
  }
  ++by_address_[address];
  ++by_calling_ae_[calling_ae];
  return std::nullopt;
}

void PeerShares::give_back(const std::string& address, const std::string& calling_ae) {
  give_back_one(by_address_, address);
  give_back_one(by_calling_ae_, calling_ae);
}

}  // namespace creni::ingest
