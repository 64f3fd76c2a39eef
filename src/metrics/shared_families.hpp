#pragma once

#include <prometheus/family.h>
#include <prometheus/histogram.h>

#include "creni/metrics/registry.hpp"

namespace creni::metrics {

/// creni_processing_seconds{step}: one family fed by several handles (pipeline steps, forward attempts). The
/// registry merges registrations of the same name, so each handle asks for it here, with one help text.
prometheus::Family<prometheus::Histogram>& processing_seconds_family(Registry& registry);

}  // namespace creni::metrics
