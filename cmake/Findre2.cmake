# Findre2: Debian's libre2-dev ships a .pc file but no CMake config.
# Defines re2::re2, upstream's target name, so a later real config drops in.
find_path(RE2_INCLUDE_DIR re2/re2.h)
find_library(RE2_LIBRARY re2)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(re2 REQUIRED_VARS RE2_INCLUDE_DIR RE2_LIBRARY)
if(re2_FOUND AND NOT TARGET re2::re2)
  find_package(Threads REQUIRED)  # RE2 is built with -pthread
  add_library(re2::re2 UNKNOWN IMPORTED)
  set_target_properties(re2::re2 PROPERTIES
    IMPORTED_LOCATION "${RE2_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${RE2_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
mark_as_advanced(RE2_INCLUDE_DIR RE2_LIBRARY)
