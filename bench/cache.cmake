# bench_cache drives the real cache plugins through the test host-services
# table (tests/support/cache_test_host.c).
qts_add_bench(bench_cache SOURCES bench_cache.c
  ${PROJECT_SOURCE_DIR}/tests/support/cache_test_host.c LIBS PkgConfig::HIREDIS)
target_include_directories(bench_cache PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
add_dependencies(bench_cache cache_memory cache_redis)
