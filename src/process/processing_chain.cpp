#include "creni/process/processing_chain.hpp"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <opencv2/core.hpp>

#include <algorithm>

#include "creni/process/derivation.hpp"
#include "creni/process/external_step.hpp"
#include "creni/process/inference_step.hpp"
#include "creni/process/pixel_frames.hpp"
#include "creni/process/tag_rewriter.hpp"
#include "creni/process/text_burner.hpp"

namespace creni::process {

namespace {

// DerivationDescription is ST (PS3.5 section 6.2): at most 1024 characters.
constexpr std::size_t kMaxDerivationDescription = 1024;

Result<std::unique_ptr<Processor>> make_step(const std::string& name, const config::ProcessingConfig& processing,
                                             const config::InferenceConfig& inference) {
  if (name == "describe") return std::unique_ptr<Processor>(std::make_unique<TagRewriter>());
  if (name == "burn_in") return std::unique_ptr<Processor>(std::make_unique<TextBurner>());
  if (name == "infer") return make_inference_step(inference);
  if (name == "external") return make_external_step(processing, inference);
  return make_error("invalid_config", "processing.steps: step '" + name + "' is not available in this build");
}

std::string derivation_description(const std::vector<std::unique_ptr<Processor>>& steps, const std::string& marker,
                                   const std::vector<std::string>& notes) {
  std::string text = marker + " by creni-node " CRENI_VERSION ":";
  for (std::size_t i = 0; i < steps.size(); ++i) text += (i == 0 ? " " : ", ") + std::string(steps[i]->name());
  for (const std::string& note : notes) text += "; " + note;
  if (text.size() > kMaxDerivationDescription) text.resize(kMaxDerivationDescription);
  return text;
}

}  // namespace

Result<ProcessingChain> ProcessingChain::build(const config::ProcessingConfig& processing,
                                               const config::InferenceConfig& inference) {
  std::vector<std::unique_ptr<Processor>> steps;
  for (const std::string& name : processing.steps) {
    auto step = make_step(name, processing, inference);
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

Result<ProcessedImage> ProcessingChain::run(dicom::Instance& instance, config::OutputStudy study) {
  return run(instance, processing_.non_image, study);
}

Result<ProcessedImage> ProcessingChain::run(dicom::Instance& instance, config::NonImagePolicy non_image,
                                            config::OutputStudy study) {
  ProcessingContext context{instance, processing_};
  // The source as it came in: a step may replace the instance ("external"), never what it was derived from.
  const dicom::InstanceIdentity source = instance.identity();
  const std::string study_description = instance.string_of(DCM_StudyDescription);

  const bool needs_pixels =
      std::any_of(steps_.begin(), steps_.end(), [](const auto& step) { return step->needs_pixels(); });
  auto pixels = prepare_pixels(instance, processing_, needs_pixels, non_image);
  if (!pixels) return pixels.error();
  context.pixels = pixels.value();

  for (const auto& step : steps_) {
    try {
      if (Status applied = step->apply(context); !applied) return applied.error();
    } catch (const cv::Exception& e) {
      return make_error("processing_failed", std::string(step->name()) + ": " + e.what());
    }
  }

  ProcessedImage processed;
  processed.source = source;
  processed.result = derived_identity(source, study);
  if (study == config::OutputStudy::original &&
      context.instance.dataset().putAndInsertString(DCM_StudyDescription, study_description.c_str()).bad()) {
    return make_error("internal_error", "cannot keep StudyDescription");
  }
  processed.findings = context.findings;
  processed.inference_ms = context.inference_ms;
  const std::string description = derivation_description(steps_, processing_.marker, context.derivation_notes);
  const DerivationFacts facts{context.burned_in, description};
  if (Status marked = mark_as_derived(context.instance.dataset(), processed.source, processed.result, facts); !marked) {
    return marked.error();
  }
  return processed;
}

}  // namespace creni::process
