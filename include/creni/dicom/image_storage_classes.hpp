#pragma once

#include <string>
#include <vector>

#include "creni/common/result.hpp"
#include "creni/dicom/part10_meta.hpp"

namespace creni::dicom {

/// What a storage SOP class says about its objects, for [processing] non_image.
enum class StorageObjectKind {
  image,      ///< an image storage class: its IOD has Pixel Data (or Float/Double Float Pixel Data) the node processes
  non_image,  ///< a storage class known to carry no pixel data (SR, KO, PR, RT plan/structures, waveforms, PDF, ...)
  unknown,    ///< a class neither list knows (a vendor's private class, a class newer than DCMTK 3.6.7): ask the data set
};

/// The image storage SOP classes: every storage SOP class of PS3.4 Annex B.5 (UIDs from PS3.6 Annex A) whose IOD
/// (PS3.3 Annex A) includes the Image Pixel Module or Float/Double Float Pixel Data, retired ones included (US,
/// NM, XA bi-plane, VL, hardcopy image): CR, DX, MG, IO, CT, MR, US, NM, PET (all flavours, enhanced and legacy
/// converted), secondary captures, XA/XRF, 3D X-ray, breast tomosynthesis and projection, IVOCT, VL and video
/// (endoscopic, microscopic, photographic, slide, whole slide, dermoscopic), ophthalmic photography, tomography,
/// thickness and topography maps, RT Image, RT Dose, Segmentation, Parametric Map, DICOS and DICONDE images.
/// DCMTK's own dcmImageSOPClassUIDs cannot serve: it lacks RT Dose and Segmentation, among others. Thread-safe.
[[nodiscard]] const std::vector<std::string>& image_storage_sop_class_uids();

/// image for image_storage_sop_class_uids(); non_image for any other storage class DCMTK 3.6.7 knows
/// (dcmAllStorageSOPClassUIDs) and for private_non_image_sop_class_uids(); unknown otherwise. Thread-safe.
[[nodiscard]] StorageObjectKind storage_object_kind(const std::string& sop_class_uid);

/// Whether the top level of a Part 10 file's data set has Pixel Data (7FE0,0010), Float Pixel Data (7FE0,0008) or
/// Double Float Pixel Data (7FE0,0009). Walks element headers with pread from `meta.dataset_offset` without DCMTK and
/// without recursion (nested sequences are skipped by their lengths or followed to their delimiters with a depth
/// count), never reading a value, so a hostile file costs at most kMaxElements header reads.
/// Errors: "io_error", "malformed" (an element overruns the file, a delimiter at the top level), "undetermined"
/// (deflated data set, a UN value of undefined length, more elements than the bound): the caller decides.
/// Thread-safe (no shared state; the descriptor's offset is not moved).
[[nodiscard]] Result<bool> has_pixel_data(int fd, const MetaIdentity& meta);

}  // namespace creni::dicom
