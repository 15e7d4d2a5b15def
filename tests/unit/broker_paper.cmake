# test_broker_paper and test_broker_paper_flow dlopen the real
# broker_paper.so (broker_paper_fixture.h): build the plugin first.
foreach(t test_broker_paper test_broker_paper_flow)
  qts_add_test(unit ${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  add_dependencies(${t} broker_paper)
endforeach()
