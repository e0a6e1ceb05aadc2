# The headers as users include them, "endure/<folder>/<file>.hpp" and
# "endure/endure.hpp", in the build tree too: a folder of symbolic links to
# the sources, so the repository keeps its fixed top-level layout while no
# build ever puts the repository root (and its generic folder names: net/,
# actors/) on anybody's include path. The install tree has the same shape
# (cmake/install.cmake).
set(ENDURE_INCLUDE_DIR ${PROJECT_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${ENDURE_INCLUDE_DIR}/endure)
foreach(name actors net persistence supervisors cli)
  file(REMOVE ${ENDURE_INCLUDE_DIR}/endure/${name})
  file(CREATE_LINK ${PROJECT_SOURCE_DIR}/${name} ${ENDURE_INCLUDE_DIR}/endure/${name} SYMBOLIC)
endforeach()
file(REMOVE ${ENDURE_INCLUDE_DIR}/endure/endure.hpp)
file(CREATE_LINK ${PROJECT_SOURCE_DIR}/actors/endure.hpp ${ENDURE_INCLUDE_DIR}/endure/endure.hpp
     SYMBOLIC)
