# Finds the OpenCV modules creni-node uses from Debian's per-module packages
# (libopencv-core-dev, libopencv-imgproc-dev, libopencv-dnn-dev). Debian ships OpenCVConfig.cmake only in the
# libopencv-dev meta package, which pulls in ~190 packages (Qt, GDAL, ffmpeg) the node never uses.
# Defines the imported targets opencv_<component> and OpenCV_VERSION.

find_path(OpenCV_INCLUDE_DIR opencv2/core/version.hpp PATH_SUFFIXES opencv4)

if(OpenCV_INCLUDE_DIR)
  file(STRINGS "${OpenCV_INCLUDE_DIR}/opencv2/core/version.hpp" _cv_version_lines
       REGEX "#define CV_VERSION_(MAJOR|MINOR|REVISION) ")
  foreach(_part MAJOR MINOR REVISION)
    string(REGEX REPLACE ".*#define CV_VERSION_${_part} +([0-9]+).*" "\\1" _cv_${_part} "${_cv_version_lines}")
  endforeach()
  set(OpenCV_VERSION "${_cv_MAJOR}.${_cv_MINOR}.${_cv_REVISION}")
endif()

set(_cv_required_vars OpenCV_INCLUDE_DIR)
foreach(_component IN LISTS OpenCV_FIND_COMPONENTS)
  find_library(OpenCV_${_component}_LIBRARY NAMES opencv_${_component})
  list(APPEND _cv_required_vars OpenCV_${_component}_LIBRARY)
  if(OpenCV_${_component}_LIBRARY AND NOT TARGET opencv_${_component})
    add_library(opencv_${_component} UNKNOWN IMPORTED)
    set_target_properties(opencv_${_component} PROPERTIES
      IMPORTED_LOCATION "${OpenCV_${_component}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${OpenCV_INCLUDE_DIR}")
  endif()
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(OpenCV REQUIRED_VARS ${_cv_required_vars} VERSION_VAR OpenCV_VERSION)
