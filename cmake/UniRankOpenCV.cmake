# SPDX-License-Identifier: GPL-3.0-or-later
# Finds the three OpenCV modules core uses (core, imgproc, imgcodecs) and exposes unirank::opencv.
# Debian ships OpenCVConfig.cmake only in the meta package libopencv-dev, which pulls in VTK and MPI;
# the per-module -dev packages are enough, so fall back to plain find_path/find_library.
find_package(OpenCV 4 QUIET CONFIG COMPONENTS core imgproc imgcodecs)
add_library(unirank_opencv INTERFACE)
add_library(unirank::opencv ALIAS unirank_opencv)
if(OpenCV_FOUND)
  target_link_libraries(unirank_opencv INTERFACE opencv_core opencv_imgproc opencv_imgcodecs)
  message(STATUS "OpenCV ${OpenCV_VERSION} (config package)")
else()
  find_path(UNIRANK_OPENCV_INCLUDE_DIR opencv2/core.hpp PATH_SUFFIXES opencv4 REQUIRED)
  set(libs)
  foreach(m core imgproc imgcodecs)
    find_library(UNIRANK_OPENCV_${m}_LIBRARY NAMES opencv_${m} REQUIRED)
    list(APPEND libs ${UNIRANK_OPENCV_${m}_LIBRARY})
  endforeach()
  target_include_directories(unirank_opencv SYSTEM INTERFACE ${UNIRANK_OPENCV_INCLUDE_DIR})
  target_link_libraries(unirank_opencv INTERFACE ${libs})
  message(STATUS "OpenCV modules: ${libs}")
endif()
