#include "creni/dicom/identity_check.hpp"

namespace creni::dicom {

namespace {

Status compare(const char* field, const std::string& where, const std::string& announced, const std::string& in_dataset) {
  if (announced.empty() || announced == in_dataset) return {};
  return make_error("identity_mismatch", std::string(field) + ": " + where + " " + announced + ", data set " +
                                             (in_dataset.empty() ? "(none)" : in_dataset));
}

}  // namespace

Status check_identity(const Instance& instance, const std::string& announced_sop_instance_uid,
                      const std::string& announced_by) {
  const InstanceIdentity& data = instance.identity();
  if (const auto& meta = instance.meta()) {
    if (Status s = compare("SOPClassUID", "meta header", meta->media_storage_sop_class_uid, data.sop_class_uid); !s) return s;
    if (Status s = compare("SOPInstanceUID", "meta header", meta->media_storage_sop_instance_uid, data.sop_instance_uid);
        !s) {
      return s;
    }
  }
  return compare("SOPInstanceUID", announced_by, announced_sop_instance_uid, data.sop_instance_uid);
}

}  // namespace creni::dicom
