// Per-image processing time of the chain the node runs in its workers: load, process (describe, burn_in, UIDs),
// save. Usage: creni-process-bench FILE [iterations]   (FILE: any DICOM image, e.g. one made by bench/dicomgen.py)
// Prints the median and p95 of each stage over the iterations, in milliseconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "creni/config/node_config.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double percentile(std::vector<double> values, double fraction) {
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE [iterations]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path input = argv[1];
  const int iterations = argc > 2 ? std::max(1, std::stoi(argv[2])) : 200;
  const creni::dicom::DcmtkRuntime runtime;
  const creni::config::NodeConfig config;
  auto chain = creni::process::ProcessingChain::build(config.processing, config.inference);
  if (!chain) {
    std::fprintf(stderr, "%s\n", chain.error().describe().c_str());
    return 1;
  }
  const auto out_dir = std::filesystem::temp_directory_path() / ("creni-process-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(out_dir);
  const creni::output::OutputWriter writer(out_dir, creni::config::OutputLayout::flat);

  std::vector<double> load_ms, process_ms, save_ms, total_ms;
  for (int i = 0; i < iterations; ++i) {
    const auto start = Clock::now();
    auto instance = creni::dicom::Instance::load(input);
    if (!instance) {
      std::fprintf(stderr, "load: %s\n", instance.error().describe().c_str());
      return 1;
    }
    const double loaded = ms_since(start);
    const auto process_start = Clock::now();
    auto processed = chain->run(instance.value());
    if (!processed) {
      std::fprintf(stderr, "process: %s\n", processed.error().describe().c_str());
      return 1;
    }
    const double processed_ms = ms_since(process_start);
    const auto save_start = Clock::now();
    auto written = writer.write(instance.value(), processed->result);
    if (!written) {
      std::fprintf(stderr, "save: %s\n", written.error().describe().c_str());
      return 1;
    }
    save_ms.push_back(ms_since(save_start));
    std::filesystem::remove(written.value());  // results never replace each other: the next one needs the name
    load_ms.push_back(loaded);
    process_ms.push_back(processed_ms);
    total_ms.push_back(ms_since(start));
  }
  std::filesystem::remove_all(out_dir);

  std::printf("%d iterations of %s\n", iterations, input.filename().c_str());
  std::printf("  stage     median ms   p95 ms\n");
  const std::pair<const char*, const std::vector<double>*> rows[] = {
      {"load", &load_ms}, {"process", &process_ms}, {"save", &save_ms}, {"total", &total_ms}};
  for (const auto& [name, values] : rows) {
    std::printf("  %-8s %9.2f %9.2f\n", name, percentile(*values, 0.5), percentile(*values, 0.95));
  }
  return 0;
}
