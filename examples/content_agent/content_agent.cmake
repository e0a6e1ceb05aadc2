# endure_content_agent: the content agent (workflow, tools, default policy)
# as a library. Included by cli/ (`endure demo` runs it) so it is built
# whether or not the examples are; examples/content_agent/CMakeLists.txt
# adds the example program on top.
set(_content_agent_dir ${CMAKE_CURRENT_LIST_DIR})
file(READ ${_content_agent_dir}/policy.yaml ENDURE_CONTENT_AGENT_POLICY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_content_agent_dir}/policy.yaml)
configure_file(${_content_agent_dir}/policy.inc.in
  ${CMAKE_CURRENT_BINARY_DIR}/content_agent/content_agent_policy.inc @ONLY)
add_library(endure_content_agent STATIC
  ${_content_agent_dir}/content_agent.cpp
  ${_content_agent_dir}/content_tools.cpp)
target_include_directories(endure_content_agent
  PUBLIC ${_content_agent_dir}
  PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/content_agent)
target_link_libraries(endure_content_agent PUBLIC endure_actors)
target_compile_options(endure_content_agent PRIVATE -Wall -Wextra)
