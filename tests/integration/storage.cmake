# Storage integration tests: the PostgreSQL store against a real server.
qts_add_test(integration test_store_postgres
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_store_postgres.c
          ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_cases.c
  LIBS PkgConfig::LIBPQ TIMEOUT 600)
target_include_directories(test_store_postgres PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/integration)
add_dependencies(test_store_postgres store_postgres)
