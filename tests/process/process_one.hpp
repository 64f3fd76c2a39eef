#pragma once

// Shared by the process suites: one generated image through a chain, saved and loaded back.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include <filesystem>
#include <memory>
#include <string>

#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"
#include "dicom_factory.hpp"

namespace creni::process {

/// A processed image as it was saved, loaded back.
struct ProcessedFile {
  ProcessedImage processed;
  std::filesystem::path output;
  std::unique_ptr<DcmFileFormat> saved = std::make_unique<DcmFileFormat>();
  [[nodiscard]] DcmDataset& data() const { return *saved->getDataset(); }
};

/// Writes `spec` as `<folder>/in-<index>.dcm`, runs it through a chain built from `processing` and `inference`,
/// saves the result below `<folder>/out` (flat) and loads it back. Any step's error is returned as is.
inline Result<ProcessedFile> process_one(const testing::ImageSpec& spec, const config::ProcessingConfig& processing,
                                         const config::InferenceConfig& inference,
                                         const std::filesystem::path& folder, int index) {
  const auto input = folder / ("in-" + std::to_string(index) + ".dcm");
  if (Status written = testing::write_image(spec, input); !written) return written.error();
  auto chain = ProcessingChain::build(processing, inference);
  if (!chain) return chain.error();
  auto instance = dicom::Instance::load(input);
  if (!instance) return instance.error();
  auto processed = chain->run(instance.value());
  if (!processed) return processed.error();
  // One folder per image: OUTPUT never takes a second result under an existing name.
  const output::OutputWriter writer(folder / ("out-" + std::to_string(index)), config::OutputLayout::flat);
  auto written = writer.write(instance.value(), processed->result);
  if (!written) return written.error();
  ProcessedFile file;
  file.processed = processed.value();
  file.output = written.value();
  if (file.saved->loadFile(file.output.c_str()).bad()) return make_error("test", "cannot reload the output");
  return file;
}

/// The element's value (all values, backslash-separated), or "".
inline std::string text_of(DcmItem& item, const DcmTagKey& tag) {
  OFString value;
  item.findAndGetOFStringArray(tag, value);
  return value.c_str();
}

}  // namespace creni::process
