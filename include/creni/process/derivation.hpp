#pragma once

#include <string_view>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"

class DcmDataset;

namespace creni::process {

/// The identity of the result of processing `source`: new Study, Series and SOP Instance UIDs derived
/// deterministically from the originals (uid::derive), so that every slice of a series lands in one derived series
/// and processing the same image twice gives the same result; the SOP class is kept and the transfer syntax is
/// Explicit VR Little Endian, the only one results are written in. With `study` original ([output] study), the
/// result keeps the original Study Instance UID: a new series inside the original study.
[[nodiscard]] dicom::InstanceIdentity derived_identity(const dicom::InstanceIdentity& source,
                                                       config::OutputStudy study = config::OutputStudy::derived);

/// What happened to the image, for the marks of a derived instance.
struct DerivationFacts {
  bool burned_in = false;                 ///< pixel values were changed by drawing on them
  std::string_view description;           ///< DerivationDescription (0008,2111), ST
};

/// Makes `dataset` the derived instance `result` of `source` (PS3.3 section C.7.6.1): writes the new UIDs,
/// ImageType DERIVED\SECONDARY (other values kept), BurnedInAnnotation YES when burned in, a SourceImageSequence
/// item referencing the source image, DerivationDescription, InstanceCreationDate/Time, LossyImageCompression 01
/// when the source was lossy-compressed, and removes digital signatures that the changes invalidate.
/// Errors: "internal_error" when DCMTK refuses a value.
[[nodiscard]] Status mark_as_derived(DcmDataset& dataset, const dicom::InstanceIdentity& source,
                                     const dicom::InstanceIdentity& result, const DerivationFacts& facts);

}  // namespace creni::process
