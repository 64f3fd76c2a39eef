// Per-image cost of the AI step: the worker's path for one image (load, process, save) with the chain the node
// runs by default ("describe", "burn_in") and with an ONNX model in it ("describe", "infer", "burn_in"), in one run.
//
// Usage: creni-inference-bench MODEL [FILE] [iterations]
//   MODEL  an ONNX classifier with a 1x1x256x256 input and one score, e.g. cnn256.onnx from
//          /usr/bin/python3 tests/process/make_test_models.py DIR --bench   (a small CNN with random weights)
//   FILE   a DICOM image; absent or "": a generated 512x512 12-bit CT slice
// Prints the median and p95 per image, images/s, and the model time alone, in milliseconds.
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "creni/config/node_config.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) { return std::chrono::duration<double, std::milli>(Clock::now() - start).count(); }

double percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// A CT-like slice: a disc of soft tissue with a brighter blob, 12 bits stored, window 40/400 after rescale -1024.
bool write_slice(const std::filesystem::path& path) {
  constexpr int kSize = 512;
  DcmFileFormat file;
  DcmDataset& data = *file.getDataset();
  char uid[100];
  data.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
  data.putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
  data.putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
  data.putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
  data.putAndInsertString(DCM_Modality, "CT");
  data.putAndInsertString(DCM_PatientName, "BENCH^INFERENCE");
  data.putAndInsertString(DCM_StudyDescription, "BENCH");
  data.putAndInsertString(DCM_SeriesDescription, "AXIAL");
  data.putAndInsertString(DCM_PhotometricInterpretation, "MONOCHROME2");
  data.putAndInsertUint16(DCM_SamplesPerPixel, 1);
  data.putAndInsertUint16(DCM_Rows, kSize);
  data.putAndInsertUint16(DCM_Columns, kSize);
  data.putAndInsertUint16(DCM_BitsAllocated, 16);
  data.putAndInsertUint16(DCM_BitsStored, 12);
  data.putAndInsertUint16(DCM_HighBit, 11);
  data.putAndInsertUint16(DCM_PixelRepresentation, 0);
  data.putAndInsertString(DCM_RescaleIntercept, "-1024");
  data.putAndInsertString(DCM_RescaleSlope, "1");
  data.putAndInsertString(DCM_WindowCenter, "40");
  data.putAndInsertString(DCM_WindowWidth, "400");
  std::vector<Uint16> pixels(static_cast<std::size_t>(kSize) * kSize);
  for (int row = 0; row < kSize; ++row) {
    for (int column = 0; column < kSize; ++column) {
      const double r = std::hypot(row - kSize / 2.0, column - kSize / 2.0);
      const double blob = std::hypot(row - 200.0, column - 300.0);
      int hu = r < 230 ? 40 + (row * 7 + column * 13) % 60 - 30 : -1000;
      if (blob < 25) hu = 300;
      pixels[static_cast<std::size_t>(row) * kSize + column] = static_cast<Uint16>(std::clamp(hu + 1024, 0, 4095));
    }
  }
  data.putAndInsertUint16Array(DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  return file.saveFile(path.c_str(), EXS_LittleEndianExplicit).good();
}

struct Run {
  std::vector<double> total_ms;
  std::vector<double> model_ms;
  double wall_s = 0.0;
};

bool measure(creni::process::ProcessingChain& chain, const std::filesystem::path& input, const std::filesystem::path& out,
             int iterations, Run& run) {
  const creni::output::OutputWriter writer(out, creni::config::OutputLayout::flat);
  const auto wall = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    auto instance = creni::dicom::Instance::load(input);
    if (!instance) {
      std::fprintf(stderr, "load: %s\n", instance.error().describe().c_str());
      return false;
    }
    auto processed = chain.run(instance.value());
    if (!processed) {
      std::fprintf(stderr, "process: %s\n", processed.error().describe().c_str());
      return false;
    }
    auto written = writer.write(instance.value(), processed->result);
    if (!written) {
      std::fprintf(stderr, "save: %s\n", written.error().describe().c_str());
      return false;
    }
    run.total_ms.push_back(ms_since(start));
    run.model_ms.push_back(processed->inference_ms);
  }
  run.wall_s = std::chrono::duration<double>(Clock::now() - wall).count();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL [FILE] [iterations]\n", argv[0]);
    return 2;
  }
  const creni::dicom::DcmtkRuntime runtime;
  const auto work = std::filesystem::temp_directory_path() / ("creni-inference-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(work);
  struct RemoveOnExit {
    std::filesystem::path path;
    ~RemoveOnExit() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } cleanup{work};
  const bool generated = argc <= 2 || argv[2][0] == '\0';
  const std::filesystem::path input = generated ? work / "slice.dcm" : std::filesystem::path(argv[2]);
  if (generated && !write_slice(input)) {
    std::fprintf(stderr, "cannot write the generated slice\n");
    return 1;
  }
  const int iterations = argc > 3 ? std::max(1, std::stoi(argv[3])) : 100;

  creni::config::ProcessingConfig off;
  creni::config::ProcessingConfig on;
  on.steps = {"describe", "infer", "burn_in"};
  creni::config::InferenceConfig inference;
  inference.model = argv[1];
  inference.input_width = 256;
  inference.input_height = 256;
  inference.labels = {"finding"};
  inference.algorithm_name = "bench-cnn";

  int status = 0;
  const char* names[] = {"infer off", "infer on"};
  Run runs[2];
  for (int mode = 0; mode < 2 && status == 0; ++mode) {
    const auto build_start = Clock::now();
    auto chain = creni::process::ProcessingChain::build(mode == 0 ? off : on, inference);
    const double build_ms = ms_since(build_start);
    if (!chain) {
      std::fprintf(stderr, "%s\n", chain.error().describe().c_str());
      return 1;
    }
    Run warm_up;
    if (!measure(chain.value(), input, work / "out", 5, warm_up) || !measure(chain.value(), input, work / "out", iterations, runs[mode])) {
      status = 1;
    }
    if (mode == 1) std::printf("model load and start-up check: %.1f ms\n", build_ms);
  }
  if (status != 0) return status;

  std::printf("%d images of %s per mode (load, process, save; one process, one thread)\n", iterations,
              input.filename().c_str());
  std::printf("  mode        median ms   p95 ms   images/s   model median ms   model p95 ms\n");
  for (int mode = 0; mode < 2; ++mode) {
    const Run& run = runs[mode];
    std::printf("  %-10s %10.2f %8.2f %10.1f %17.2f %14.2f\n", names[mode], percentile(run.total_ms, 0.5),
                percentile(run.total_ms, 0.95), static_cast<double>(run.total_ms.size()) / run.wall_s,
                percentile(run.model_ms, 0.5), percentile(run.model_ms, 0.95));
  }
  return 0;
}
