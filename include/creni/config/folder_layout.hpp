#pragma once

#include <filesystem>

#include "creni/common/result.hpp"

namespace creni::config {

/// Checks that INPUT, OUTPUT and the state folder are three separate trees: none is the same folder as another
/// or lies inside another, after resolving symbolic links (std::filesystem::weakly_canonical, so folders that do
/// not exist yet are judged by the parts that do). OUTPUT or state inside INPUT would feed the node its own results
/// or journal; INPUT inside OUTPUT would mix what arrives with what was made.
/// Error "invalid_config" naming both keys and both resolved paths.
[[nodiscard]] Status check_folders_apart(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                                         const std::filesystem::path& state_dir);

}  // namespace creni::config
