#include "creni/output/output_writer.hpp"

#include "creni/common/atomic_file.hpp"
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
  if (Status committed = fs::commit_file(staged->temp, staged->final_path); !committed) return committed.error();
  return staged->final_path;
}

Result<StagedOutput> OutputWriter::stage(dicom::Instance& instance, const dicom::InstanceIdentity& result) const {
  auto relative = relative_output_path(layout_, result);
  if (!relative) return relative.error();
  std::filesystem::path final_path = root_ / relative.value();
  if (Status made = fs::create_directories_durably(final_path.parent_path()); !made) return made.error();
  auto temp = instance.save_unsynced(final_path);
  if (!temp) return temp.error();
  return StagedOutput{std::move(temp).value(), std::move(final_path)};
}

}  // namespace creni::output
