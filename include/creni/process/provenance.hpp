#pragma once

#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/process/processor.hpp"

class DcmDataset;

namespace creni::process {

/// Which algorithm looked at the image, as recorded in the output.
struct AlgorithmIdentity {
  std::string step;          ///< "infer" or "external"
  std::string name;          ///< [inference] algorithm_name (ManufacturerModelName)
  std::string version;       ///< [inference] algorithm_version (SoftwareVersions, value 1)
  std::string model_sha256;  ///< SHA-256 of the model file (SoftwareVersions, value 2); empty for external modules
  std::string details;       ///< how a series step looked at the series (stack order, depth), for its report; may be empty
};

/// "nodule 0.93, clear 0.10", or "no findings".
[[nodiscard]] std::string findings_text(const std::vector<Finding>& findings);

/// Records in `dataset` which algorithm looked at the image and what it found, so that anyone holding the image
/// can tell which model said what:
///  - an item appended to ContributingEquipmentSequence (0018,A001; PS3.3 section C.12.1): Manufacturer
///    "creni-node", ManufacturerModelName = name, SoftwareVersions = version\sha256 (the hash only for models),
///    PurposeOfReferenceCodeSequence (109102, DCM, "Processing Equipment"), ContributionDateTime and
///    ContributionDescription ("<step> by creni-node <version>: <findings>; model sha256 <hash>");
///  - a line appended to ImageComments (0020,4000, LT; earlier comments kept):
///    "<marker> <name> <version>: nodule 0.93, clear 0.10" or "...: no findings".
/// Error "internal_error" when DCMTK refuses a value.
[[nodiscard]] Status record_provenance(DcmDataset& dataset, const AlgorithmIdentity& algorithm, const std::string& marker,
                                       const std::vector<Finding>& findings);

/// The DerivationDescription note of an algorithm: "infer nodule-screen 1.0 (model sha256 <hash>)".
[[nodiscard]] std::string derivation_note(const AlgorithmIdentity& algorithm);

}  // namespace creni::process
