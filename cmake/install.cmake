# Installation and export, so another CMake project can
# find_package(endure) and link endure::endure.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# The same names as the build tree's aliases: endure::actors, endure::agent...
foreach(target ${ENDURE_INSTALL_TARGETS})
  if(NOT target STREQUAL "endure")
    string(REGEX REPLACE "^endure_" "" short ${target})
    set_target_properties(${target} PROPERTIES EXPORT_NAME ${short})
  endif()
endforeach()
install(TARGETS ${ENDURE_INSTALL_TARGETS} EXPORT endureTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# Headers: the public ones (outside detail/ folders) and exactly the
# internal ones they include, found by following their includes. So an
# installed endure has no header that pulls in lmdb.h, Beast or Asio (the
# agent headers use nlohmann-json: tools take and return JSON); users include
# "endure/endure.hpp" (or one header, "endure/actors/...").
set(endure_headers_todo)
foreach(dir persistence actors actors/agent actors/gateway actors/escalation actors/state actors/service supervisors net net/auth net/cluster net/cluster/replication)
  file(GLOB public CONFIGURE_DEPENDS RELATIVE ${PROJECT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/${dir}/*.hpp)
  list(APPEND endure_headers_todo ${public})
endforeach()
set(endure_headers)
while(endure_headers_todo)
  list(POP_FRONT endure_headers_todo header)
  if(header IN_LIST endure_headers)
    continue()
  endif()
  list(APPEND endure_headers ${header})
  file(STRINGS ${PROJECT_SOURCE_DIR}/${header} includes REGEX "^#include \"endure/")
  foreach(line ${includes})
    string(REGEX REPLACE "^#include \"endure/([^\"]+)\".*" "\\1" included "${line}")
    list(APPEND endure_headers_todo ${included})
  endforeach()
endwhile()
foreach(header ${endure_headers})
  get_filename_component(folder ${header} DIRECTORY)
  install(FILES ${PROJECT_SOURCE_DIR}/${header}
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/endure/${folder})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/actors/endure.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/endure)
install(EXPORT endureTargets NAMESPACE endure::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindLMDB.cmake
              ${PROJECT_SOURCE_DIR}/cmake/Findxxhash.cmake
              ${PROJECT_SOURCE_DIR}/cmake/Findre2.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/endureConfig.cmake.in
  ${PROJECT_BINARY_DIR}/endureConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/endureConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/endureConfig.cmake
              ${PROJECT_BINARY_DIR}/endureConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
