# modelgate_add_plugin(<name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>])
#
# Builds <name>.so, a loadable ModelGate plugin: a MODULE library with no "lib"
# prefix, hidden symbols (only the entry symbol is exported), linked against
# ModelGate::sdk, with undefined symbols refused at link time. The exception:
# clang's sanitizer and fuzzer runtimes live in the executable that loads the
# plugin, so a plugin built with clang and -fsanitize=... in CMAKE_CXX_FLAGS (or
# with MODELGATE_PLUGIN_ALLOW_UNDEFINED set) leaves their symbols undefined.
function(modelgate_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  if(TARGET ModelGate::sdk)
    target_link_libraries(${name} PRIVATE ModelGate::sdk)
  else()
    target_link_libraries(${name} PRIVATE modelgate_sdk)
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  set(allow_undefined ${MODELGATE_PLUGIN_ALLOW_UNDEFINED})
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND CMAKE_CXX_FLAGS MATCHES "-fsanitize=")
    set(allow_undefined ON)
  endif()
  if(NOT allow_undefined)
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
endfunction()

# modelgate_add_conformance_test(<name> PLUGIN <plugin target> [FIXTURES <dir>])
#
# Builds the conformance kit (once per project) and a test <name> that runs it
# against the plugin: the gateway's loader, descriptor checks, the golden
# fixtures in <dir> (streams split at every byte), error classification,
# garbage input and repeated create/destroy. Needs GoogleTest.
function(modelgate_add_conformance_test name)
  cmake_parse_arguments(ARG "" "PLUGIN;FIXTURES" "" ${ARGN})
  if(NOT ARG_PLUGIN)
    message(FATAL_ERROR "modelgate_add_conformance_test(${name}): PLUGIN <target> is required")
  endif()
  if(NOT TARGET modelgate_testkit)
    find_package(GTest REQUIRED)
    find_package(Threads REQUIRED)
    add_library(modelgate_testkit STATIC
      ${MODELGATE_SDK_SOURCE_DIR}/host/src/loader.cpp
      ${MODELGATE_SDK_SOURCE_DIR}/host/src/adapter.cpp
      ${MODELGATE_SDK_SOURCE_DIR}/testkit/src/testkit.cpp)
    if(TARGET ModelGate::sdk)
      target_link_libraries(modelgate_testkit PUBLIC ModelGate::sdk)
    else()
      target_link_libraries(modelgate_testkit PUBLIC modelgate_sdk)
    endif()
    target_link_libraries(modelgate_testkit PUBLIC GTest::gtest Threads::Threads ${CMAKE_DL_LIBS})
    target_compile_definitions(modelgate_testkit PUBLIC BOOST_DLL_USE_STD_FS)
  endif()
  add_executable(${name} ${MODELGATE_SDK_SOURCE_DIR}/testkit/src/check_main.cpp)
  target_link_libraries(${name} PRIVATE modelgate_testkit)
  add_dependencies(${name} ${ARG_PLUGIN})
  set(args $<TARGET_FILE:${ARG_PLUGIN}>)
  if(ARG_FIXTURES)
    list(APPEND args --fixtures ${ARG_FIXTURES})
  endif()
  add_test(NAME ${name} COMMAND ${name} ${args})
  set_tests_properties(${name} PROPERTIES LABELS "unit;conformance" TIMEOUT 300)
endfunction()
