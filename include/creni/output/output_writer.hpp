#pragma once

#include <filesystem>

#include "creni/common/directory.hpp"
#include "creni/common/result.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/instance.hpp"

namespace creni::output {

/// Where a result goes inside OUTPUT/gateway_<id>/: `nested` = <StudyInstanceUID>/<SOPInstanceUID>.dcm,
/// `flat` = <SOPInstanceUID>.dcm. Built only from UIDs validated here (never from names, IDs or AE titles).
/// Errors: "invalid_uid".
[[nodiscard]] Result<std::filesystem::path> relative_output_path(config::OutputLayout layout,
                                                                 const dicom::InstanceIdentity& result);

/// A result written to a temporary sibling of its final path, not yet durable or visible: fs::commit_file(temp,
/// final_path) completes it.
struct StagedOutput {
  std::filesystem::path temp;
  std::filesystem::path final_path;
};

/// Writes processed instances below one root (for example OUTPUT/gateway_1), atomically: a reader of the output
/// folder never sees a partial file, only complete results under their final names. Nothing below the root is
/// followed if it is a symbolic link (the study folder included), files are created with O_EXCL, and a result
/// never takes the place of an existing file unless the caller says so (commit with fs::Replace::allowed, for a
/// job's own earlier result). Stateless apart from its configuration; safe to use from several threads or
/// processes on distinct instances.
class OutputWriter {
 public:
  OutputWriter(std::filesystem::path root, config::OutputLayout layout);

  /// Saves `instance` (already processed: `result` holds its new UIDs) durably and returns the final path.
  /// Errors: "invalid_uid", "io_error" (disk full, read-only: nothing partial is left behind), "symlink" (a folder
  /// below the root is a symbolic link), "exists" (a file already has the name: left untouched).
  [[nodiscard]] Result<std::filesystem::path> write(dicom::Instance& instance, const dicom::InstanceIdentity& result) const;

  /// The first half of write(): encodes `instance` next to its final path and leaves the fsync and the rename to
  /// the caller (fs::commit_file). The result's folder exists and is durable. Errors: as write().
  [[nodiscard]] Result<StagedOutput> stage(dicom::Instance& instance, const dicom::InstanceIdentity& result) const;

  /// The second half: fsync of the staged file, then its final name (renameat2 RENAME_NOREPLACE unless `replace`
  /// allows replacing), within the result's folder opened below the root without following links. The folder's
  /// own fsync is left to the caller. Errors: "exists" (the staged file is kept: commit again with
  /// Replace::allowed or discard it), "symlink", "io_error" (the staged file is removed).
  [[nodiscard]] Status commit(const StagedOutput& staged, fs::Replace replace) const;

  /// Removes a staged file that will not be committed.
  void discard(const StagedOutput& staged) const;

  [[nodiscard]] const std::filesystem::path& root() const { return root_; }

 private:
  [[nodiscard]] Result<fs::Directory> folder_of(const StagedOutput& staged) const;

  std::filesystem::path root_;
  config::OutputLayout layout_;
};

}  // namespace creni::output
