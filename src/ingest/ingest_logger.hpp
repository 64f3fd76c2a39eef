#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace creni::ingest::detail {

/// The module's named logger (spdlog "ingest"), or the default one when it is not registered.
std::shared_ptr<spdlog::logger> logger();

}  // namespace creni::ingest::detail
