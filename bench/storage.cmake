# Storage benchmark: links SQLite for its in-run reference.
qts_add_bench(bench_store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_store.c LIBS PkgConfig::SQLITE3)
add_dependencies(bench_store store_sqlite store_postgres)
