#include "creni/ingest/association_admission.hpp"

#include <gtest/gtest.h>

namespace creni::ingest {
namespace {

config::GatewayConfig gateway(std::string id, std::vector<std::string> calling, std::vector<std::string> called = {},
                              std::vector<std::string> addresses = {}) {
  config::GatewayConfig g;
  g.id = std::move(id);
  g.calling_ae_titles = std::move(calling);
  g.called_ae_titles = std::move(called);
  g.allowed_addresses = std::move(addresses);
  return g;
}

AssociationAdmission admission(std::string default_gateway = "") {
  return AssociationAdmission("CRENI",
                              {gateway("1", {"GATEWAY_1"}), gateway("2", {"GATEWAY_2"}, {"CRENI_B"}, {"10.0.0.2"})},
                              std::move(default_gateway));
}

TEST(AssociationAdmission, maps_the_calling_ae_title_to_its_gateway_ignoring_padding) {
  const Admission a = admission().admit({" GATEWAY_1  ", "CRENI ", "127.0.0.1"});
  EXPECT_EQ(a.verdict, AdmissionVerdict::admitted);
  EXPECT_EQ(a.gateway_id, "1");
}

TEST(AssociationAdmission, does_not_recognize_an_unknown_calling_ae_title_without_a_default_gateway) {
  EXPECT_EQ(admission().admit({"STRANGER", "CRENI", "127.0.0.1"}).verdict, AdmissionVerdict::calling_ae_not_recognized);
  EXPECT_EQ(admission().admit({"gateway_1", "CRENI", "127.0.0.1"}).verdict, AdmissionVerdict::calling_ae_not_recognized)
      << "AE titles match exactly, case included";
  EXPECT_EQ(admission().admit({"", "CRENI", "127.0.0.1"}).verdict, AdmissionVerdict::calling_ae_not_recognized);
}

TEST(AssociationAdmission, puts_unknown_calling_ae_titles_into_the_default_gateway) {
  const Admission a = admission("1").admit({"STRANGER", "CRENI", "127.0.0.1"});
  EXPECT_EQ(a.verdict, AdmissionVerdict::admitted);
  EXPECT_EQ(a.gateway_id, "1");
}

TEST(AssociationAdmission, requires_our_ae_title_as_called_unless_the_gateway_lists_others) {
  EXPECT_EQ(admission().admit({"GATEWAY_1", "OTHER", "127.0.0.1"}).verdict, AdmissionVerdict::called_ae_not_recognized);
  EXPECT_EQ(admission("1").admit({"STRANGER", "OTHER", "127.0.0.1"}).verdict,
            AdmissionVerdict::called_ae_not_recognized);
  EXPECT_EQ(admission().admit({"GATEWAY_2", "CRENI_B", "10.0.0.2"}).verdict, AdmissionVerdict::admitted);
  EXPECT_EQ(admission().admit({"GATEWAY_2", "CRENI", "10.0.0.2"}).verdict, AdmissionVerdict::called_ae_not_recognized);
}

TEST(AssociationAdmission, admits_only_allowed_addresses_when_a_gateway_lists_them) {
  EXPECT_EQ(admission().admit({"GATEWAY_2", "CRENI_B", "10.0.0.3"}).verdict, AdmissionVerdict::address_not_allowed);
  EXPECT_EQ(admission().admit({"GATEWAY_1", "CRENI", "192.168.1.7"}).verdict, AdmissionVerdict::admitted);
}

}  // namespace
}  // namespace creni::ingest
