#include <iostream>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"
#include "creni/dicom/dcmtk_runtime.hpp"
#include "creni/process/series_inference.hpp"

namespace creni::app {

int command_series_infer(const std::vector<std::string>& paths) {
  if (paths.size() != 1 && paths.size() != 4) {
    std::cerr << "creni-node series-infer: give SETTINGS, or SETTINGS INSTANCES SERIES.json RESULT.json\n";
    return kExitUsage;
  }
  const dicom::DcmtkRuntime runtime;  // codecs and dictionary: the instances are decoded here, never in the node
  if (Status ready = runtime.check(); !ready) {
    std::cerr << "creni-node series-infer: " << ready.error().describe() << "\n";
    return kExitFailure;
  }
  const Status done = paths.size() == 1 ? process::check_series_inference(paths[0])
                                        : process::run_series_inference(paths[0], paths[2], paths[3]);
  if (!done) {
    std::cerr << "creni-node series-infer: " << done.error().describe() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace creni::app
