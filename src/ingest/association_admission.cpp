#include "creni/ingest/association_admission.hpp"

#include <algorithm>

namespace creni::ingest {

namespace {

bool contains_title(const std::vector<std::string>& titles, const std::string& wanted) {
  return std::any_of(titles.begin(), titles.end(), [&](const std::string& t) { return trimmed_ae_title(t) == wanted; });
}

bool address_allowed(const config::GatewayConfig& gateway, const std::string& address) {
  const auto& allowed = gateway.allowed_addresses;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), address) != allowed.end();
}

Admission refuse(AdmissionVerdict verdict, std::string reason) { return {verdict, "", std::move(reason)}; }

}  // namespace

std::string trimmed_ae_title(const std::string& ae_title) {
  const auto first = ae_title.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  const auto last = ae_title.find_last_not_of(' ');
  return ae_title.substr(first, last - first + 1);
}

AssociationAdmission::AssociationAdmission(std::string our_ae_title, std::vector<config::GatewayConfig> gateways,
                                           std::string default_gateway)
    : our_ae_title_(trimmed_ae_title(our_ae_title)),
      gateways_(std::move(gateways)),
      default_gateway_(std::move(default_gateway)) {}

Admission AssociationAdmission::admit(const AssociationRequestor& requestor) const {
  const std::string calling = trimmed_ae_title(requestor.calling_ae_title);
  const std::string called = trimmed_ae_title(requestor.called_ae_title);
  const config::GatewayConfig* gateway = gateway_for_calling(calling);
  if (gateway == nullptr && !default_gateway_.empty()) gateway = gateway_by_id(default_gateway_);
  if (gateway == nullptr) {
    return refuse(AdmissionVerdict::calling_ae_not_recognized, "calling AE title not recognized");
  }
  if (!may_be_called(*gateway, called)) {
    return refuse(AdmissionVerdict::called_ae_not_recognized,
                  "called AE title not recognized for gateway " + gateway->id);
  }
  if (!address_allowed(*gateway, requestor.peer_address)) {
    return refuse(AdmissionVerdict::address_not_allowed, "address not allowed for gateway " + gateway->id);
  }
  return {AdmissionVerdict::admitted, gateway->id, ""};
}

const config::GatewayConfig* AssociationAdmission::gateway_for_calling(const std::string& calling) const {
  if (calling.empty()) return nullptr;
  for (const auto& gateway : gateways_) {
    if (contains_title(gateway.calling_ae_titles, calling)) return &gateway;
  }
  return nullptr;
}

const config::GatewayConfig* AssociationAdmission::gateway_by_id(const std::string& id) const {
  for (const auto& gateway : gateways_) {
    if (gateway.id == id) return &gateway;
  }
  return nullptr;
}

bool AssociationAdmission::may_be_called(const config::GatewayConfig& gateway, const std::string& called) const {
  if (gateway.called_ae_titles.empty()) return called == our_ae_title_;
  return contains_title(gateway.called_ae_titles, called);
}

}  // namespace creni::ingest
