#pragma once

#include <string_view>

namespace creni::http {

/// One file of the dashboard, compiled into the binary (no CDN, nothing to install beside the binary).
struct DashboardAsset {
  std::string_view path;          ///< "/index.html", "/dashboard.js", "/dashboard.css"
  std::string_view content_type;
  std::string_view content;
};

/// The dashboard's files (generated at build time from src/http/dashboard/).
[[nodiscard]] const DashboardAsset* dashboard_assets_begin();
[[nodiscard]] const DashboardAsset* dashboard_assets_end();

}  // namespace creni::http
