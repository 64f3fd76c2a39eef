#pragma once

#include <string>
#include <vector>

#include "creni/config/node_config.hpp"

namespace creni::ingest {

/// Who asks for an association: the AE titles from the A-ASSOCIATE-RQ and the peer's IP address.
struct AssociationRequestor {
  std::string calling_ae_title;
  std::string called_ae_title;
  std::string peer_address;  ///< numeric IPv4 address, e.g. "127.0.0.1"
};

enum class AdmissionVerdict {
  admitted,
  calling_ae_not_recognized,  ///< no [[gateway]] lists the calling AE title and there is no default gateway
  called_ae_not_recognized,   ///< the called AE title is not one the gateway may call
  address_not_allowed,        ///< the gateway's allowed_addresses do not include the peer
};

/// The decision about one association request: which gateway the images belong to, or why not.
struct Admission {
  AdmissionVerdict verdict = AdmissionVerdict::calling_ae_not_recognized;
  std::string gateway_id;  ///< set when admitted
  std::string reason;      ///< human-readable, for the association log line
};

/// Maps an association to a gateway (issue 4, "Who may send"). The calling AE title selects the [[gateway]] that
/// lists it (exact match after trimming spaces; titles are unique across gateways, see config::validate); when none
/// does, scp.default_gateway takes it if set. The chosen gateway's called_ae_titles (empty = our own AE title) and
/// allowed_addresses (empty = any) must then also match. AE titles only ever select a gateway id: they never
/// become part of a path. Immutable after construction; admit() is thread-safe.
class AssociationAdmission {
 public:
  AssociationAdmission(std::string our_ae_title, std::vector<config::GatewayConfig> gateways,
                       std::string default_gateway);

  [[nodiscard]] Admission admit(const AssociationRequestor& requestor) const;

 private:
  [[nodiscard]] const config::GatewayConfig* gateway_for_calling(const std::string& calling) const;
  [[nodiscard]] const config::GatewayConfig* gateway_by_id(const std::string& id) const;
  [[nodiscard]] bool may_be_called(const config::GatewayConfig& gateway, const std::string& called) const;

  std::string our_ae_title_;
  std::vector<config::GatewayConfig> gateways_;
  std::string default_gateway_;
};

/// `ae_title` without leading and trailing spaces (PS3.5 section 6.2: they are not significant for AE).
[[nodiscard]] std::string trimmed_ae_title(const std::string& ae_title);

}  // namespace creni::ingest
