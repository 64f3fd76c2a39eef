#pragma once

// Internal to the catalog module: the gateways' four tables (patient, study, series, image), their columns and
// the DICOM attributes the columns are filled from.

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctagkey.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "creni/catalog/catalog.hpp"

namespace creni::catalog::detail {

// One column of a gateway table; `tag` is the DICOM attribute of the same keyword, when there is one.
struct Column {
  std::string_view name;
  DcmTagKey tag;
  bool from_dataset = true;
};

enum class Level { patient, study, series, image };

struct Table {
  Level level;
  std::string_view name;
  std::string_view key_column;  // the UID that identifies a row ("" for patient, found by PatientID)
  // The gateways' statements, byte for byte: their readers compare nothing, but sqlite_master keeps this text and
  // an identical schema is the simplest proof of compatibility.
  std::string_view create_table;
  std::string_view create_index;
  std::vector<Column> columns;  // in the table's order, without id and referenceId
};

/// The four tables, in Level order.
const std::vector<Table>& tables();

const Table& table(Level level);

using Values = std::vector<std::pair<std::string, std::string>>;

/// The record's values for one level.
Values& part(CatalogRecord& record, Level level);
const Values& part(const CatalogRecord& record, Level level);

bool is_column_of(const Table& table, std::string_view name);

}  // namespace creni::catalog::detail
