# Redis integration tests: a real redis-server (scripts/with-services);
# exit 77 when QTS_REDIS_PORT is not set.
qts_add_test(integration test_cache_redis
  SOURCES integration/test_cache_redis.c ${CMAKE_CURRENT_SOURCE_DIR}/support/cache_test_host.c
  LIBS PkgConfig::HIREDIS Threads::Threads TIMEOUT 120)
add_dependencies(test_cache_redis cache_redis cache_memory)
qts_add_test(integration test_cmd_status_redis
  SOURCES integration/test_cmd_status_redis.c ${CMAKE_CURRENT_SOURCE_DIR}/support/cache_test_host.c
  LIBS PkgConfig::HIREDIS TIMEOUT 60)
add_dependencies(test_cmd_status_redis cache_redis qts)
