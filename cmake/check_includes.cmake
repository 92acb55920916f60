# Fails if a folder includes a project header from a folder it may not depend on
# (the include side of the link graph in cmake/link_graph.cmake).
cmake_minimum_required(VERSION 3.25)  # script mode (-P) needs it for IN_LIST and list policies
set(rules
  "core:"
  "consensus:core"
  "contracts:core"
  "wallet:core,contracts"
  "node:core,consensus,contracts")
set(all_folders core consensus contracts node wallet)
set(failures "")
foreach(rule IN LISTS rules)
  string(REPLACE ":" ";" parts "${rule}")
  list(GET parts 0 folder)
  list(LENGTH parts n)
  set(allowed ${folder})
  if(n GREATER 1)
    list(GET parts 1 deps)
    string(REPLACE "," ";" deps "${deps}")
    list(APPEND allowed ${deps})
  endif()
  file(GLOB_RECURSE sources "${SOURCE_DIR}/${folder}/*.h" "${SOURCE_DIR}/${folder}/*.cc")
  foreach(source IN LISTS sources)
    file(STRINGS "${source}" includes REGEX "^#include \"[a-z_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target_folder "${line}")
      if(target_folder IN_LIST all_folders AND NOT target_folder IN_LIST allowed)
        list(APPEND failures "${source}: ${line}")
      endif()
    endforeach()
    # Purity of the deterministic layers: no clocks, threads, randomness, sockets or LevelDB.
    if(folder STREQUAL "consensus" OR folder STREQUAL "contracts")
      file(STRINGS "${source}" impure REGEX "^#include <(chrono|thread|random|mutex|boost/asio|boost/beast|leveldb/|sys/socket)")
      foreach(line IN LISTS impure)
        list(APPEND failures "${source}: impure include ${line}")
      endforeach()
    endif()
  endforeach()
endforeach()
if(failures)
  string(REPLACE ";" "\n" text "${failures}")
  message(FATAL_ERROR "include graph violations:\n${text}")
endif()
message(STATUS "include graph ok")
