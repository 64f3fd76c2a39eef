#include "series_member.hpp"

namespace creni::pipeline {

namespace {

using Columns = std::vector<std::pair<std::string, std::string>>;

std::string value_of(const Columns& columns, const std::string& name) {
  for (const auto& [column, value] : columns) {
    if (column == name) return value;
  }
  return {};
}

void append_lines(std::string& header, const char* table, const Columns& columns) {
  for (const auto& [column, value] : columns) {
    // A value with a line break would break the line form; such values are not needed by a report.
    if (value.find('\n') != std::string::npos || column == "PrivateCreator") continue;
    header += std::string(table) + "." + column + "=" + value + "\n";
  }
}

}  // namespace

journal::SeriesMember series_member_of(const JobReply& reply, config::LatePolicy late) {
  journal::SeriesMember member;
  member.study_instance_uid = reply.source.study_instance_uid;
  member.series_instance_uid = reply.source.series_instance_uid;
  member.sop_class_uid = reply.source.sop_class_uid;
  member.sop_instance_uid = reply.source.sop_instance_uid;
  member.result_study_instance_uid = reply.result.study_instance_uid;
  member.result_series_instance_uid = reply.result.series_instance_uid;
  member.result_sop_instance_uid = reply.result.sop_instance_uid;
  member.expected = reply.expected_in_series;
  const Columns& image = reply.catalog_entry.image;
  member.instance_number = value_of(image, "InstanceNumber");
  member.image_position = value_of(image, "ImagePositionPatient");
  member.image_orientation = value_of(image, "ImageOrientationPatient");
  member.rows = value_of(image, "Rows");
  member.columns = value_of(image, "Columns");
  member.pixel_spacing = value_of(image, "PixelSpacing");
  append_lines(member.header, "patient", reply.catalog_entry.patient);
  append_lines(member.header, "study", reply.catalog_entry.study);
  append_lines(member.header, "series", reply.catalog_entry.series);
  member.late = late == config::LatePolicy::separate ? journal::LateArrival::separate : journal::LateArrival::reopen;
  return member;
}

}  // namespace creni::pipeline
