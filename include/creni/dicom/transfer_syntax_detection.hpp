#pragma once

#include <string>

class DcmFileFormat;

namespace creni::dicom {

/// The transfer syntax a loaded object is encoded in: the meta header's TransferSyntaxUID when DCMTK does not know
/// it (HTJ2K and other syntaxes newer than DCMTK 3.6.7, whose data sets DCMTK parses as explicit VR little endian),
/// otherwise the syntax DCMTK read the data set with (for a bare data set without meta header: the one it detected).
[[nodiscard]] std::string transfer_syntax_of(DcmFileFormat& file);

/// True when a meta header's transfer syntax is one DCMTK 3.6.7 does not know (HTJ2K, for example). DCMTK refuses
/// such a Part 10 file when told to read a Part 10 file only; it must read it with detection instead, and
/// transfer_syntax_of() then gives the declared syntax.
[[nodiscard]] bool is_unknown_to_dcmtk(const std::string& transfer_syntax_uid);

}  // namespace creni::dicom
