#include "ingest_logger.hpp"

namespace creni::ingest::detail {

std::shared_ptr<spdlog::logger> logger() {
  auto named = spdlog::get("ingest");
  return named ? named : spdlog::default_logger();
}

}  // namespace creni::ingest::detail
