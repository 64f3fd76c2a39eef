#include "creni/dicom/dcmtk_runtime.hpp"

#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcobject.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

namespace creni::dicom {

DcmtkRuntime::DcmtkRuntime() {
  // DCMTK's own logger would print to stderr in its own format; our modules log through spdlog instead.
  OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  // Color JPEG is converted to RGB when the stream says YCbCr, so the written photometric matches the pixels.
  DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never);
  DJLSDecoderRegistration::registerCodecs(EJLSUC_never);
  DcmRLEDecoderRegistration::registerCodecs(OFFalse, OFFalse);
  // An element written with VR UN whose tag the dictionary knows is read with its real VR (its value is implicit VR
  // little endian, PS3.5 section 6.2.2): files whose converter wrote every element as UN keep their UIDs and pixels.
  dcmEnableUnknownVRConversion.set(OFTrue);
}

DcmtkRuntime::~DcmtkRuntime() {
  DcmRLEDecoderRegistration::cleanup();
  DJLSDecoderRegistration::cleanup();
  DJDecoderRegistration::cleanup();
}

Status DcmtkRuntime::check() const {
  if (!dcmDataDict.isDictionaryLoaded()) {
    return make_error("dictionary_missing",
                      "DCMTK data dictionary not loaded; install the dcmtk data files or set DCMDICTPATH");
  }
  return {};
}

}  // namespace creni::dicom
