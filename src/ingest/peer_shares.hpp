#pragma once

#include <map>
#include <optional>
#include <string>

namespace creni::ingest {

/// How many associations each peer holds, by address and by calling AE title, so that one host (or one sender
/// spread over many hosts under one AE title) can never take every worker: scp.max_associations_per_peer.
/// Not thread-safe: the owner serialises take() and give_back().
class PeerShares {
 public:
  explicit PeerShares(int per_peer) : per_peer_(per_peer) {}

  /// Counts one more association for the peer and returns nothing, or counts nothing and returns why not.
  [[nodiscard]] std::optional<std::string> take(const std::string& address, const std::string& calling_ae);
  /// Gives back what take() counted.
  void give_back(const std::string& address, const std::string& calling_ae);

 private:
  int per_peer_;
  std::map<std::string, int> by_address_;
  std::map<std::string, int> by_calling_ae_;
};

}  // namespace creni::ingest
