#include <dcmtk/dcmdata/dcuid.h>
#include <opencv2/core/version.hpp>
#include <sqlite3.h>

#include <iostream>

#include "creni/app/cli.hpp"
#include "creni/app/commands.hpp"

namespace creni::app {

int command_version() {
  std::cout << "creni-node " << CRENI_VERSION << "\n"
            << "  DCMTK " << OFFIS_DCMTK_VERSION_STRING << "\n"
            << "  OpenCV " << CV_VERSION << "\n"
            << "  SQLite " << sqlite3_libversion() << "\n";
  return kExitOk;
}

}  // namespace creni::app
