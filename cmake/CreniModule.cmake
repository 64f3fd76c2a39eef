# creni_add_module(<name> SOURCES ... [PUBLIC deps...] [PRIVATE deps...])
# One static library per module, creni::<name>, with the project's include/ directory public.
# Dependencies are the module's contract with the rest of the tree (see DESIGN.md, dependency rules).
function(creni_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC;PRIVATE" ${ARGN})
  add_library(creni_${name} STATIC ${ARG_SOURCES})
  add_library(creni::${name} ALIAS creni_${name})
  target_include_directories(creni_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include)
  # Every module logs through its own named spdlog logger (DESIGN.md rule 10); only app configures sinks.
  target_link_libraries(creni_${name} PUBLIC ${ARG_PUBLIC} PRIVATE ${ARG_PRIVATE} spdlog::spdlog)
  target_compile_definitions(creni_${name} PRIVATE CRENI_VERSION="${CRENI_VERSION}")
endfunction()

# creni_add_interface(<name> [deps...]): header-only interface target (ArrivalSink, Processor, PacsSender).
function(creni_add_interface name)
  add_library(creni_${name} INTERFACE)
  add_library(creni::${name} ALIAS creni_${name})
  target_include_directories(creni_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(creni_${name} INTERFACE ${ARGN})
endfunction()
