#include "creni/config/folder_layout.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

namespace creni::config {

namespace {

std::filesystem::path resolved(const std::filesystem::path& folder) {
  std::error_code ec;
  auto real = std::filesystem::weakly_canonical(std::filesystem::absolute(folder, ec), ec);
  if (ec) real = std::filesystem::absolute(folder).lexically_normal();
  // "a/b/" and "a/b" name the same folder: compare without a trailing separator.
  return real.has_filename() ? real : real.parent_path();
}

// Whether `inner` is `outer` or lies below it (whole path components, so /data/in2 is not inside /data/in).
bool same_or_inside(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto o = outer.begin();
  auto i = inner.begin();
  for (; o != outer.end(); ++o, ++i) {
    if (i == inner.end() || *i != *o) return false;
  }
  return true;
}

}  // namespace

Status check_folders_apart(const std::filesystem::path& input_dir, const std::filesystem::path& output_dir,
                           const std::filesystem::path& state_dir) {
  const std::array<std::pair<const char*, std::filesystem::path>, 3> folders{{
      {"node.input_dir", resolved(input_dir)},
      {"node.output_dir", resolved(output_dir)},
      {"node.state_dir", resolved(state_dir)},
  }};
  for (std::size_t a = 0; a < folders.size(); ++a) {
    for (std::size_t b = 0; b < folders.size(); ++b) {
      if (a == b) continue;
      const auto& [inner_key, inner] = folders[a];
      const auto& [outer_key, outer] = folders[b];
      if (!same_or_inside(inner, outer)) continue;
      const std::string relation = inner == outer ? " is the same folder as " : " lies inside ";
      return make_error("invalid_config", std::string(inner_key) + " (" + inner.string() + ")" + relation +
                                              outer_key + " (" + outer.string() +
                                              "): input, output and state folders must be separate trees");
    }
  }
  return {};
}

}  // namespace creni::config
