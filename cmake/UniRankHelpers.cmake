# SPDX-License-Identifier: GPL-3.0-or-later
# Small helpers shared by the per-layer CMakeLists.

# Warnings for our own targets only (never global flags).
# Debian's libtorch needs libopencv_highgui, which loads Qt 5 into every process that uses libtorch.
# A Qt 6 program must then not export its copies of Qt's inline functions: Qt 5's libraries would bind
# to them (an unversioned definition in the executable satisfies their Qt_5 references) and crash in
# unoptimised builds. Targets that use Qt 6 and libtorch together hide their inline functions.
function(unirank_hide_inlines target)
  set_target_properties(${target} PROPERTIES VISIBILITY_INLINES_HIDDEN ON)
endfunction()

function(unirank_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                           -Wold-style-cast -Wcast-align -Woverloaded-virtual)
endfunction()

# unirank_add_test(NAME name SOURCES ... LIBRARIES ... [LABELS ...] [GUI] [BOTH_BACKENDS | SERVER_ONLY] [TIMEOUT s])
# One Qt Test program per tested class or concern; GUI tests run on the offscreen platform.
# BOTH_BACKENDS: the program also runs as name_pg on the test PostgreSQL server (tests/support/test_backend.h).
# SERVER_ONLY: it runs only as name_pg (what a file project does not have, e.g. server roles).
function(unirank_add_test)
  cmake_parse_arguments(T "GUI;BOTH_BACKENDS;SERVER_ONLY" "NAME;TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBRARIES} Qt6::Test unirank_testsupport)
  unirank_set_warnings(${T_NAME})
  unirank_hide_inlines(${T_NAME})
  if(NOT T_SERVER_ONLY)
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(UNIRANK_SANITIZE)
    list(APPEND T_LABELS asan) # the sanitizer build's suite: ctest --preset asan -L asan
  endif()
  # CTest's TIMEOUT governs; Qt Test's own per-function watchdog (5 minutes) must not be stricter.
  # Tests keep the weights-hash cache in the build tree, not the user's ~/.cache.
  set(env "UNIRANK_SOURCE_DIR=${PROJECT_SOURCE_DIR}" "UNIRANK_BINARY_DIR=${PROJECT_BINARY_DIR}"
          "QTEST_FUNCTION_TIMEOUT=${T_TIMEOUT}000" "UNIRANK_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache")
  if(T_GUI)
    list(APPEND env "QT_QPA_PLATFORM=offscreen")
  endif()
  if(NOT T_SERVER_ONLY)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ENVIRONMENT "${env}")
  endif()
  if(T_BOTH_BACKENDS OR T_SERVER_ONLY)
    target_link_libraries(${T_NAME} PRIVATE unirank_testbackend)
    add_test(NAME ${T_NAME}_pg COMMAND ${T_NAME})
    list(APPEND env "UNIRANK_TEST_BACKEND=postgresql" "UNIRANK_TEST_PG_URL_FILE=${PROJECT_BINARY_DIR}/test-pg/url")
    set_tests_properties(${T_NAME}_pg PROPERTIES LABELS "${T_LABELS};postgresql" TIMEOUT ${T_TIMEOUT}
                         ENVIRONMENT "${env}" FIXTURES_REQUIRED pg_server)
  endif()
endfunction()

# The real Qwen tokenizer (11 MB) ships xz-compressed in tests/data; unpack it once into the build tree.
# Sets `out_var` to the folder holding tokenizer.json.
function(unirank_unpack_test_tokenizer out_var)
  set(dir ${PROJECT_BINARY_DIR}/testdata/qwen-tokenizer)
  set(archive ${PROJECT_SOURCE_DIR}/tests/data/golden/qwen2vl/tokenizer/tokenizer.json.tar.xz)
  if(NOT EXISTS ${dir}/tokenizer.json OR ${archive} IS_NEWER_THAN ${dir}/tokenizer.json)
    file(ARCHIVE_EXTRACT INPUT ${archive} DESTINATION ${dir})
  endif()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${archive})
  set(${out_var} ${dir} PARENT_SCOPE)
endfunction()
