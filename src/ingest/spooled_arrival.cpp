#include "creni/ingest/spooled_arrival.hpp"

#include <sys/stat.h>

#include "creni/common/content_hash.hpp"
#include "creni/common/directory.hpp"
#include "creni/config/node_config.hpp"
#include "creni/dicom/part10_meta.hpp"
#include "spool_record.hpp"

namespace creni::ingest {

std::optional<Arrival> recover_spooled_arrival(const std::filesystem::path& spool_file) {
  auto fd = fs::open_regular_file(spool_file);
  if (!fd) return std::nullopt;
  const auto record = read_spool_record(fd->get());
  if (!record || !config::is_valid_gateway_id(record->gateway_id)) return std::nullopt;
  struct stat info {};
  if (::fstat(fd->get(), &info) != 0 || static_cast<std::uint64_t>(info.st_size) != record->file_size) {
    return std::nullopt;
  }
  const auto meta = dicom::read_meta_identity(fd->get());
  if (!meta) return std::nullopt;
  const auto hash = sha256_of(fd->get(), meta->dataset_offset);
  if (!hash || hash.value() != record->content_hash) return std::nullopt;
  Arrival arrival;
  arrival.gateway_id = record->gateway_id;
  arrival.source = ArrivalSource::scp;
  arrival.path = spool_file;
  arrival.sop_class_uid = meta->media_storage_sop_class_uid;
  arrival.sop_instance_uid = meta->media_storage_sop_instance_uid;
  arrival.peer = "recovered";
  arrival.association = record->association;
  arrival.content_hash = hash.value();
  arrival.recoverable = true;
  return arrival;
}

}  // namespace creni::ingest
