# Installation and export, so another CMake project can
# find_package(endure) and link endure::endure.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS ${ENDURE_INSTALL_TARGETS} EXPORT endureTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
foreach(dir persistence actors supervisors net)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/endure/${dir}
    FILES_MATCHING PATTERN "*.hpp")
endforeach()
install(EXPORT endureTargets NAMESPACE endure::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
install(FILES ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindLMDB.cmake
              ${PROJECT_SOURCE_DIR}/cmake/Findxxhash.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/endureConfig.cmake.in
  ${PROJECT_BINARY_DIR}/endureConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/endureConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/endureConfig.cmake
              ${PROJECT_BINARY_DIR}/endureConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/endure)
