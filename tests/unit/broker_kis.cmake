# test_kis_core: the protocol functions of broker_kis (no I/O), linked from
# the plugin's own source.
qts_add_test(unit test_kis_core SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_kis_core.c
  ${PROJECT_SOURCE_DIR}/plugins/broker_kis/kis_core.c LIBS PkgConfig::OPENSSL)
target_include_directories(test_kis_core PRIVATE ${PROJECT_SOURCE_DIR}/plugins/broker_kis)
