# test_exec_paper runs the execution pipeline end to end against the real
# broker_paper plugin (dlopen). It skips (77) when the plugin is not built.
qts_add_test(unit test_exec_paper SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_exec_paper.c
  LIBS ${CMAKE_DL_LIBS})
if(TARGET broker_paper)
  add_dependencies(test_exec_paper broker_paper)
endif()
