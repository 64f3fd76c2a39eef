#include "creni/process/processing_chain.hpp"

#include <dcmtk/dcmdata/dcdatset.h>
#include <opencv2/core.hpp>

#include <algorithm>

#include "creni/process/derivation.hpp"
#include "creni/process/tag_rewriter.hpp"
#include "creni/process/text_burner.hpp"

namespace creni::process {

namespace {

Result<std::unique_ptr<Processor>> make_step(const std::string& name, const config::InferenceConfig& inference) {
  if (name == "describe") return std::unique_ptr<Processor>(std::make_unique<TagRewriter>());
  if (name == "burn_in") return std::unique_ptr<Processor>(std::make_unique<TextBurner>());
  return make_error("invalid_config", "processing.steps: step '" + name + "' is not available in this build");
}

std::string derivation_description(const std::vector<std::unique_ptr<Processor>>& steps, const std::string& marker) {
  std::string text = marker + " by creni-node " CRENI_VERSION ":";
  for (std::size_t i = 0; i < steps.size(); ++i) text += (i == 0 ? " " : ", ") + std::string(steps[i]->name());
  return text;
}

}  // namespace

Result<ProcessingChain> ProcessingChain::build(const config::ProcessingConfig& processing,
                                               const config::InferenceConfig& inference) {
  std::vector<std::unique_ptr<Processor>> steps;
  for (const std::string& name : processing.steps) {
    auto step = make_step(name, inference);
    if (!step) return step.error();
    steps.push_back(std::move(step).value());
  }
  return ProcessingChain(processing, std::move(steps));
}

ProcessingChain::ProcessingChain(config::ProcessingConfig processing, std::vector<std::unique_ptr<Processor>> steps)
    : processing_(std::move(processing)), steps_(std::move(steps)) {}
ProcessingChain::ProcessingChain(ProcessingChain&&) noexcept = default;
ProcessingChain& ProcessingChain::operator=(ProcessingChain&&) noexcept = default;
ProcessingChain::~ProcessingChain() = default;

std::vector<std::string> ProcessingChain::step_names() const {
  std::vector<std::string> names;
  for (const auto& step : steps_) names.emplace_back(step->name());
  return names;
}

Result<ProcessedImage> ProcessingChain::run(dicom::Instance& instance) {
  ProcessingContext context{instance, processing_, std::nullopt, {}, false};
  DcmDataset& dataset = instance.dataset();

  // Checked before any decoding: declared sizes are validated so that a crafted header cannot make us allocate.
  auto module = dicom::read_pixel_module(dataset, processing_.max_image_bytes);
  if (!module) {
    const bool passable = module.error().code == "not_an_image" && processing_.non_image == config::NonImagePolicy::pass;
    if (!passable) return module.error();
  } else {
    context.pixels = module.value();
  }

  const bool needs_pixels =
      std::any_of(steps_.begin(), steps_.end(), [](const auto& step) { return step->needs_pixels(); });
  // Without a pixel step the pixel data is still written uncompressed: results never carry a compressed syntax.
  if (context.pixels) {
    if (Status decoded = instance.decode_pixels(); !decoded) return decoded.error();
    // Decoders may change how samples are laid out (JPEG gives interleaved RGB, RLE gives planes): read again.
    auto decoded_module = dicom::read_pixel_module(dataset, processing_.max_image_bytes);
    if (!decoded_module) return decoded_module.error();
    context.pixels = decoded_module.value();
    if (needs_pixels) {
      if (Status length = dicom::check_native_pixel_length(dataset, *context.pixels); !length) return length.error();
    }
  }

  for (const auto& step : steps_) {
    try {
      if (Status applied = step->apply(context); !applied) return applied.error();
    } catch (const cv::Exception& e) {
      return make_error("processing_failed", std::string(step->name()) + ": " + e.what());
    }
  }

  ProcessedImage processed;
  processed.source = instance.identity();
  processed.result = derived_identity(processed.source);
  processed.findings = context.findings;
  const std::string description = derivation_description(steps_, processing_.marker);
  const DerivationFacts facts{context.burned_in, description};
  if (Status marked = mark_as_derived(dataset, processed.source, processed.result, facts); !marked) return marked.error();
  return processed;
}

}  // namespace creni::process
