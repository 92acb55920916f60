# The library link graph, written down and enforced (Bitcoin Core style).
#
# Each project library may link only the project libraries listed for it here; a change that
# adds an edge fails at configure time until this table (and docs/architecture.md) says so.
# Header includes across folders are checked by the ctest `link_graph_includes`.
set(CARBON_ALLOWED_DEPS_carbon_core "")
set(CARBON_ALLOWED_DEPS_carbon_consensus "carbon_core")
set(CARBON_ALLOWED_DEPS_carbon_contracts "carbon_core")
set(CARBON_ALLOWED_DEPS_carbon_node "carbon_core;carbon_consensus;carbon_contracts")
set(CARBON_ALLOWED_DEPS_carbon_wallet "carbon_core;carbon_contracts")
set(CARBON_PROJECT_LIBRARIES carbon_core carbon_consensus carbon_contracts carbon_node carbon_wallet)

function(carbon_check_link_graph)
  foreach(target IN LISTS CARBON_PROJECT_LIBRARIES)
    if(NOT TARGET ${target})
      continue()
    endif()
    get_target_property(linked ${target} LINK_LIBRARIES)
    if(NOT linked)
      set(linked "")
    endif()
    foreach(dep IN LISTS linked)
      if(dep IN_LIST CARBON_PROJECT_LIBRARIES AND NOT dep IN_LIST CARBON_ALLOWED_DEPS_${target})
        message(FATAL_ERROR "link graph violation: ${target} may not link ${dep} "
                            "(allowed: ${CARBON_ALLOWED_DEPS_${target}}); see cmake/link_graph.cmake")
      endif()
    endforeach()
  endforeach()
endfunction()
