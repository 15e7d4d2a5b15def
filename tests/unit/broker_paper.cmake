# test_broker_paper dlopens the real broker_paper.so: build the plugin first.
qts_add_test(unit test_broker_paper SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_broker_paper.c)
add_dependencies(test_broker_paper broker_paper)
