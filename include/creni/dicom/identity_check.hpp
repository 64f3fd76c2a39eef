#pragma once

#include <string>

#include "creni/common/result.hpp"
#include "creni/dicom/instance.hpp"

namespace creni::dicom {

/// Checks that every identity an instance was announced under is the one its data set carries (the data set is
/// what gets processed and what the result is derived from): the meta header's Media Storage SOP Class and SOP
/// Instance UIDs (PS3.10 section 7.1) when the file has one, and `announced_sop_instance_uid` (what the journal
/// recorded at arrival: the meta header's, or the C-STORE command's, PS3.4 section B.2.3) when not empty. A value
/// that is absent is not compared; `announced_by` names where the announced value came from in the error. Error
/// "identity_mismatch" naming the field and both values, for example "SOPInstanceUID: meta header 1.2.3, data
/// set 1.2.4" or "SOPInstanceUID: C-STORE command 1.2.3, data set 1.2.4".
[[nodiscard]] Status check_identity(const Instance& instance, const std::string& announced_sop_instance_uid,
                                    const std::string& announced_by);

}  // namespace creni::dicom
