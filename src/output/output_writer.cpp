#include "creni/output/output_writer.hpp"

#include "creni/common/atomic_file.hpp"
#include "creni/common/directory.hpp"
#include "creni/common/uid.hpp"

namespace creni::output {

Result<std::filesystem::path> relative_output_path(config::OutputLayout layout, const dicom::InstanceIdentity& result) {
  auto sop = uid::validated(result.sop_instance_uid, "result SOPInstanceUID");
  if (!sop) return sop.error();
  const std::string file_name = sop.value() + ".dcm";
  if (layout == config::OutputLayout::flat) return std::filesystem::path(file_name);
  auto study = uid::validated(result.study_instance_uid, "result StudyInstanceUID");
  if (!study) return study.error();
  return std::filesystem::path(study.value()) / file_name;
}

OutputWriter::OutputWriter(std::filesystem::path root, config::OutputLayout layout)
    : root_(std::move(root)), layout_(layout) {}

Result<std::filesystem::path> OutputWriter::write(dicom::Instance& instance, const dicom::InstanceIdentity& result) const {
  auto staged = stage(instance, result);
  if (!staged) return staged.error();
  if (Status committed = commit(staged.value(), fs::Replace::never); !committed) {
    discard(staged.value());
    return committed.error();
  }
  if (Status synced = fs::sync_directory(staged->final_path.parent_path()); !synced) return synced.error();
  return staged->final_path;
}

Result<StagedOutput> OutputWriter::stage(dicom::Instance& instance, const dicom::InstanceIdentity& result) const {
  auto relative = relative_output_path(layout_, result);
  if (!relative) return relative.error();
  auto folder = fs::Directory::open_beneath(root_, relative->parent_path(), /*create=*/true);
  if (!folder) return folder.error();
  auto temp = instance.save_unsynced_in(folder.value(), relative->filename().string());
  if (!temp) return temp.error();
  return StagedOutput{folder->path() / temp.value(), root_ / relative.value()};
}

Status OutputWriter::commit(const StagedOutput& staged, fs::Replace replace) const {
  auto folder = folder_of(staged);
  if (!folder) return folder.error();
  const std::string temp = staged.temp.filename().string();
  if (Status synced = folder->sync_file(temp); !synced) {
    folder->remove(temp);
    return synced;
  }
  Status renamed = folder->rename(temp, staged.final_path.filename().string(), replace);
  if (!renamed && renamed.error().code != "exists") folder->remove(temp);
  return renamed;
}

void OutputWriter::discard(const StagedOutput& staged) const {
  if (auto folder = folder_of(staged)) folder->remove(staged.temp.filename().string());
}

Result<fs::Directory> OutputWriter::folder_of(const StagedOutput& staged) const {
  const auto relative = staged.final_path.parent_path().lexically_relative(root_);
  if (relative.empty() || *relative.begin() == "..") {
    return make_error("invalid_path", staged.final_path.string() + " is not below " + root_.string());
  }
  return fs::Directory::open_beneath(root_, relative, /*create=*/false);
}

}  // namespace creni::output
