# modelgate_add_plugin(<name> SOURCES <files...> [OUTPUT_DIRECTORY <dir>])
#
# Builds <name>.so, a loadable ModelGate plugin: a MODULE library with no "lib"
# prefix, hidden symbols (only the entry symbol is exported), linked against
# ModelGate::sdk, with undefined symbols refused at link time.
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
  target_link_options(${name} PRIVATE -Wl,--no-undefined)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  endif()
endfunction()
