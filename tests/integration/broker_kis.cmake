# test_broker_kis runs the engine against tests/fixtures/kis_mock.py with the
# real broker_kis.so: build the plugin first.
qts_add_test(integration test_broker_kis SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_broker_kis.c
  LIBS Threads::Threads TIMEOUT 120)
add_dependencies(test_broker_kis broker_kis)
# test_broker_kis_ops drives broker_kis.so through the plugin manager (query
# operations, runtime subscriptions, the order map across a restart).
qts_add_test(integration test_broker_kis_ops SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_broker_kis_ops.c
  TIMEOUT 120)
add_dependencies(test_broker_kis_ops broker_kis)
