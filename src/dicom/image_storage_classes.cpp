#include "creni/dicom/image_storage_classes.hpp"

#include <unordered_set>

#include "creni/dicom/storage_classes.hpp"

namespace creni::dicom {

const std::vector<std::string>& image_storage_sop_class_uids() {
  // PS3.4 Table B.5-1 (standard storage SOP classes) with PS3.6 Table A-1 for the UIDs, retired classes from older
  // editions; kept: the IODs of PS3.3 Annex A with the Image Pixel Module (C.7.6.3) or Floating Point / Double
  // Floating Point Image Pixel data (C.7.6.24), since those are the objects whose pixels the node processes.
  static const std::vector<std::string> kUids = {
      "1.2.840.10008.5.1.1.29",               // Hardcopy Grayscale Image (retired)
      "1.2.840.10008.5.1.1.30",               // Hardcopy Color Image (retired)
      "1.2.840.10008.5.1.4.1.1.1",            // Computed Radiography Image
      "1.2.840.10008.5.1.4.1.1.1.1",          // Digital X-Ray Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.1.1.1",        // Digital X-Ray Image - For Processing
      "1.2.840.10008.5.1.4.1.1.1.2",          // Digital Mammography X-Ray Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.1.2.1",        // Digital Mammography X-Ray Image - For Processing
      "1.2.840.10008.5.1.4.1.1.1.3",          // Digital Intra-Oral X-Ray Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.1.3.1",        // Digital Intra-Oral X-Ray Image - For Processing
      "1.2.840.10008.5.1.4.1.1.2",            // CT Image
      "1.2.840.10008.5.1.4.1.1.2.1",          // Enhanced CT Image
      "1.2.840.10008.5.1.4.1.1.2.2",          // Legacy Converted Enhanced CT Image
      "1.2.840.10008.5.1.4.1.1.3",            // Ultrasound Multi-frame Image (retired)
      "1.2.840.10008.5.1.4.1.1.3.1",          // Ultrasound Multi-frame Image
      "1.2.840.10008.5.1.4.1.1.4",            // MR Image
      "1.2.840.10008.5.1.4.1.1.4.1",          // Enhanced MR Image
      "1.2.840.10008.5.1.4.1.1.4.3",          // Enhanced MR Color Image
      "1.2.840.10008.5.1.4.1.1.4.4",          // Legacy Converted Enhanced MR Image
      "1.2.840.10008.5.1.4.1.1.5",            // Nuclear Medicine Image (retired)
      "1.2.840.10008.5.1.4.1.1.6",            // Ultrasound Image (retired)
      "1.2.840.10008.5.1.4.1.1.6.1",          // Ultrasound Image
      "1.2.840.10008.5.1.4.1.1.6.2",          // Enhanced US Volume
      "1.2.840.10008.5.1.4.1.1.6.3",          // Photoacoustic Image
      "1.2.840.10008.5.1.4.1.1.7",            // Secondary Capture Image
      "1.2.840.10008.5.1.4.1.1.7.1",          // Multi-frame Single Bit Secondary Capture Image
      "1.2.840.10008.5.1.4.1.1.7.2",          // Multi-frame Grayscale Byte Secondary Capture Image
      "1.2.840.10008.5.1.4.1.1.7.3",          // Multi-frame Grayscale Word Secondary Capture Image
      "1.2.840.10008.5.1.4.1.1.7.4",          // Multi-frame True Color Secondary Capture Image
      "1.2.840.10008.5.1.4.1.1.12.1",         // X-Ray Angiographic Image
      "1.2.840.10008.5.1.4.1.1.12.1.1",       // Enhanced XA Image
      "1.2.840.10008.5.1.4.1.1.12.2",         // X-Ray Radiofluoroscopic Image
      "1.2.840.10008.5.1.4.1.1.12.2.1",       // Enhanced XRF Image
      "1.2.840.10008.5.1.4.1.1.12.3",         // X-Ray Angiographic Bi-Plane Image (retired)
      "1.2.840.10008.5.1.4.1.1.13.1.1",       // X-Ray 3D Angiographic Image
      "1.2.840.10008.5.1.4.1.1.13.1.2",       // X-Ray 3D Craniofacial Image
      "1.2.840.10008.5.1.4.1.1.13.1.3",       // Breast Tomosynthesis Image
      "1.2.840.10008.5.1.4.1.1.13.1.4",       // Breast Projection X-Ray Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.13.1.5",       // Breast Projection X-Ray Image - For Processing
      "1.2.840.10008.5.1.4.1.1.14.1",         // Intravascular OCT Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.14.2",         // Intravascular OCT Image - For Processing
      "1.2.840.10008.5.1.4.1.1.20",           // Nuclear Medicine Image
      "1.2.840.10008.5.1.4.1.1.30",           // Parametric Map (Float / Double Float Pixel Data)
      "1.2.840.10008.5.1.4.1.1.66.4",         // Segmentation
      "1.2.840.10008.5.1.4.1.1.77.1",         // VL Image (retired)
      "1.2.840.10008.5.1.4.1.1.77.1.1",       // VL Endoscopic Image
      "1.2.840.10008.5.1.4.1.1.77.1.1.1",     // Video Endoscopic Image
      "1.2.840.10008.5.1.4.1.1.77.1.2",       // VL Microscopic Image
      "1.2.840.10008.5.1.4.1.1.77.1.2.1",     // Video Microscopic Image
      "1.2.840.10008.5.1.4.1.1.77.1.3",       // VL Slide-Coordinates Microscopic Image
      "1.2.840.10008.5.1.4.1.1.77.1.4",       // VL Photographic Image
      "1.2.840.10008.5.1.4.1.1.77.1.4.1",     // Video Photographic Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.1",     // Ophthalmic Photography 8 Bit Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.2",     // Ophthalmic Photography 16 Bit Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.4",     // Ophthalmic Tomography Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.5",     // Wide Field Ophthalmic Photography Stereographic Projection Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.6",     // Wide Field Ophthalmic Photography 3D Coordinates Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.7",     // Ophthalmic Optical Coherence Tomography En Face Image
      "1.2.840.10008.5.1.4.1.1.77.1.5.8",     // Ophthalmic Optical Coherence Tomography B-scan Volume Analysis
      "1.2.840.10008.5.1.4.1.1.77.1.6",       // VL Whole Slide Microscopy Image
      "1.2.840.10008.5.1.4.1.1.77.1.7",       // Dermoscopic Photography Image
      "1.2.840.10008.5.1.4.1.1.77.1.8",       // Confocal Microscopy Image
      "1.2.840.10008.5.1.4.1.1.77.1.9",       // Confocal Microscopy Tiled Pyramidal Image
      "1.2.840.10008.5.1.4.1.1.77.2",         // VL Multi-frame Image (retired)
      "1.2.840.10008.5.1.4.1.1.81.1",         // Ophthalmic Thickness Map
      "1.2.840.10008.5.1.4.1.1.82.1",         // Corneal Topography Map
      "1.2.840.10008.5.1.4.1.1.128",          // Positron Emission Tomography Image
      "1.2.840.10008.5.1.4.1.1.128.1",        // Legacy Converted Enhanced PET Image
      "1.2.840.10008.5.1.4.1.1.130",          // Enhanced PET Image
      "1.2.840.10008.5.1.4.1.1.481.1",        // RT Image
      "1.2.840.10008.5.1.4.1.1.481.2",        // RT Dose (the dose grid is Pixel Data)
      "1.2.840.10008.5.1.4.1.1.501.1",        // DICOS CT Image
      "1.2.840.10008.5.1.4.1.1.501.2.1",      // DICOS Digital X-Ray Image - For Presentation
      "1.2.840.10008.5.1.4.1.1.501.2.2",      // DICOS Digital X-Ray Image - For Processing
      "1.2.840.10008.5.1.4.1.1.501.4",        // DICOS 2D AIT
      "1.2.840.10008.5.1.4.1.1.501.5",        // DICOS 3D AIT
      "1.2.840.10008.5.1.4.1.1.601.1",        // Eddy Current Image (DICONDE)
      "1.2.840.10008.5.1.4.1.1.601.2",        // Eddy Current Multi-frame Image (DICONDE)
  };
  return kUids;
}

StorageObjectKind storage_object_kind(const std::string& sop_class_uid) {
  static const std::unordered_set<std::string> kImages(image_storage_sop_class_uids().begin(),
                                                       image_storage_sop_class_uids().end());
  if (kImages.count(sop_class_uid) != 0) return StorageObjectKind::image;
  if (is_storage_sop_class(sop_class_uid) || is_private_non_image_sop_class(sop_class_uid)) {
    return StorageObjectKind::non_image;
  }
  return StorageObjectKind::unknown;
}

}  // namespace creni::dicom
