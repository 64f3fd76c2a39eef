#pragma once

#include "creni/common/owned_fd.hpp"

namespace creni::ingest {

/// Owns one file descriptor (a socket here) and closes it on destruction. Move-only.
using UniqueFd = fs::OwnedFd;

}  // namespace creni::ingest
