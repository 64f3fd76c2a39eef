// A CatalogRecord from a DICOM data set or file: the top-level values of every column that has a DICOM attribute.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "catalog_tables.hpp"
#include "creni/catalog/catalog.hpp"

namespace creni::catalog {

using detail::Column;
using detail::part;
using detail::Table;
using detail::tables;
using detail::Values;

CatalogRecord record_from_dataset(DcmDataset& dataset) {
  CatalogRecord record;
  for (const Table& each : tables()) {
    Values& values = part(record, each.level);
    for (const Column& column : each.columns) {
      if (!column.from_dataset) continue;
      OFString value;
      // Top level only: the same keywords inside sequences describe other images. getOFStringArray gives every
      // value of a multi-valued attribute joined with backslashes, as the gateways store them, for binary VRs
      // (US, FD, ...) too.
      if (dataset.findAndGetOFStringArray(column.tag, value, /*searchIntoSub=*/OFFalse).good() &&
          !value.empty()) {
        values.emplace_back(std::string(column.name), std::string(value.c_str(), value.length()));
      }
    }
  }
  return record;
}

Result<CatalogRecord> record_from_file(const std::filesystem::path& file) {
  DcmFileFormat format;
  // The header only: the columns never come from pixel data, and a large multi-frame result need not be read.
  const OFCondition loaded = format.loadFileUntilTag(file.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                                     ERM_autoDetect, DCM_PixelData);
  if (loaded.bad()) return make_error("unreadable", file.string() + ": " + loaded.text());
  return record_from_dataset(*format.getDataset(), file);
}

CatalogRecord record_from_dataset(DcmDataset& dataset, const std::filesystem::path& stored_as) {
  CatalogRecord record = record_from_dataset(dataset);
  record.image.emplace_back("PrivateCreator", std::filesystem::absolute(stored_as).string());
  return record;
}

}  // namespace creni::catalog
