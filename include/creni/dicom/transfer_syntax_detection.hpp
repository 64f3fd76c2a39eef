#pragma once

#include <string>

class DcmFileFormat;

namespace creni::dicom {

/// The transfer syntax a loaded object is encoded in: the meta header's TransferSyntaxUID when DCMTK does not know
/// it (HTJ2K and other syntaxes newer than DCMTK 3.6.7, whose data sets DCMTK parses as explicit VR little endian),
/// otherwise the syntax DCMTK read the data set with (for a bare data set without meta header: the one it detected).
[[nodiscard]] std::string transfer_syntax_of(DcmFileFormat& file);

}  // namespace creni::dicom
