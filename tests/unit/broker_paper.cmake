# test_broker_paper and test_broker_paper_flow dlopen the real
# broker_paper.so (broker_paper_fixture.h): build the plugin first.
foreach(t test_broker_paper test_broker_paper_flow)
  qts_add_test(unit ${t} SOURCES ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  add_dependencies(${t} broker_paper)
endforeach()

# test_paper_book compiles the plugin's book code in and checks it against a
# reference implementation.
qts_add_test(unit test_paper_book SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_paper_book.c
  ${PROJECT_SOURCE_DIR}/plugins/broker_paper/paper_book.c)
target_include_directories(test_paper_book PRIVATE ${PROJECT_SOURCE_DIR}/plugins/broker_paper)
