#include <spdlog/spdlog.h>

#include <iostream>
#include <vector>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"
#include "creni/common/atomic_file.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/dicom/instance.hpp"
#include "creni/ingest/input_names.hpp"
#include "creni/output/output_writer.hpp"
#include "creni/process/processing_chain.hpp"

namespace creni::app {

namespace {

std::vector<std::filesystem::path> files_below(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (auto it = std::filesystem::recursive_directory_iterator(folder); it != std::filesystem::recursive_directory_iterator();
       ++it) {
    if (it->is_regular_file() && !it->is_symlink() && ingest::is_candidate_input_name(it->path().filename().string())) {
      files.push_back(it->path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

// One file through the chain. `explicit_output` is the exact output path, or empty to let `writer` name it.
Result<std::filesystem::path> process_one(process::ProcessingChain& chain, const std::filesystem::path& input,
                                          const std::filesystem::path& explicit_output,
                                          const output::OutputWriter& writer) {
  auto instance = dicom::Instance::load(input);
  if (!instance) return instance.error();
  auto processed = chain.run(instance.value());
  if (!processed) return processed.error();
  if (explicit_output.empty()) return writer.write(instance.value(), processed->result);
  if (Status made = fs::create_directories_durably(explicit_output.parent_path().empty()
                                                       ? std::filesystem::path(".")
                                                       : explicit_output.parent_path());
      !made) {
    return made.error();
  }
  if (Status saved = instance->save(explicit_output); !saved) return saved.error();
  return explicit_output;
}

}  // namespace

int command_process(const CommonOptions& common, const ProcessOptions& options) {
  auto config = common.load();
  if (!config) {
    std::cerr << "creni-node process: " << config.error().describe() << "\n";
    return kExitUsage;
  }
  common.start_logging(config->log_level);
  const dicom::DcmtkRuntime runtime;
  if (Status ready = runtime.check(); !ready) {
    std::cerr << "creni-node process: " << ready.error().describe() << "\n";
    return kExitRuntime;
  }
  auto chain = process::ProcessingChain::build(config->processing, config->inference);
  if (!chain) {
    std::cerr << "creni-node process: " << chain.error().describe() << "\n";
    return kExitUsage;
  }

  const bool many = std::filesystem::is_directory(options.input);
  const bool into_folder = many || std::filesystem::is_directory(options.output);
  const std::vector<std::filesystem::path> inputs = many ? files_below(options.input)
                                                         : std::vector<std::filesystem::path>{options.input};
  const output::OutputWriter writer(options.output, config::OutputLayout::nested);

  int failures = 0;
  for (const auto& input : inputs) {
    const auto written = process_one(chain.value(), input, into_folder ? std::filesystem::path() : options.output, writer);
    if (written) {
      std::cout << input.string() << " -> " << written->string() << "\n";
    } else {
      ++failures;
      std::cout << input.string() << " rejected: " << written.error().describe() << "\n";
    }
  }
  if (inputs.empty()) std::cout << "no input files below " << options.input.string() << "\n";
  return failures == 0 ? kExitOk : kExitFailure;
}

}  // namespace creni::app
