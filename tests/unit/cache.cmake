# Cache tests drive the real plugins through a small host-services table
# (tests/support/cache_test_host.c) on a real libuv loop.
set(QTS_CACHE_TEST_HOST ${CMAKE_CURRENT_SOURCE_DIR}/support/cache_test_host.c)
qts_add_test(unit test_cache_memory SOURCES unit/test_cache_memory.c ${QTS_CACHE_TEST_HOST})
qts_add_test(unit test_cache_writer SOURCES unit/test_cache_writer.c ${QTS_CACHE_TEST_HOST})
qts_add_test(unit test_risk_budget SOURCES unit/test_risk_budget.c ${QTS_CACHE_TEST_HOST})
foreach(t test_cache_memory test_cache_writer test_risk_budget)
  add_dependencies(${t} cache_memory)
endforeach()
qts_add_test(unit test_cache_redis_cfg SOURCES unit/test_cache_redis_cfg.c ${QTS_CACHE_TEST_HOST})
add_dependencies(test_cache_redis_cfg cache_redis)
