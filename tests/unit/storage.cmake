# Storage tests: the SQLite store with the shared store cases.
qts_add_test(unit test_store_sqlite
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_store_sqlite.c
          ${CMAKE_CURRENT_SOURCE_DIR}/integration/store_cases.c
  LIBS PkgConfig::SQLITE3)
add_dependencies(test_store_sqlite store_sqlite)
qts_add_test(unit test_sheet_import
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/unit/test_sheet_import.c LIBS PkgConfig::SQLITE3)
add_dependencies(test_sheet_import store_sqlite)
