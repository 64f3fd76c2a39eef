#pragma once

#include <filesystem>

#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"

namespace creni::output {

/// Where a result goes inside OUTPUT/gateway_<id>/: `nested` = <StudyInstanceUID>/<SOPInstanceUID>.dcm,
/// `flat` = <SOPInstanceUID>.dcm. Built only from UIDs validated here (never from names, IDs or AE titles).
/// Errors: "invalid_uid".
[[nodiscard]] Result<std::filesystem::path> relative_output_path(config::OutputLayout layout,
                                                                 const dicom::InstanceIdentity& result);

/// Writes processed instances below one root (for example OUTPUT/gateway_1), atomically: a reader of the output
/// folder never sees a partial file, only complete results under their final names. Stateless apart from its
/// configuration; safe to use from several threads or processes on distinct instances.
class OutputWriter {
 public:
  OutputWriter(std::filesystem::path root, config::OutputLayout layout);

  /// Saves `instance` (already processed: `result` holds its new UIDs) and returns the final path. With
  /// FolderSync::by_caller the final name is durable only once the caller has synced its folder.
  /// Errors: "invalid_uid", "io_error" (disk full, read-only: nothing partial is left behind).
  [[nodiscard]] Result<std::filesystem::path> write(dicom::Instance& instance, const dicom::InstanceIdentity& result,
                                                    fs::FolderSync folder_sync = fs::FolderSync::now) const;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
  config::OutputLayout layout_;
};

}  // namespace creni::output
