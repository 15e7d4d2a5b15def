# cache_redis over TLS: starts its own TLS redis-servers (QTS_REDIS_SERVER,
# scripts/with-services) with certificates made by the openssl command;
# exit 77 without them.
qts_add_test(integration test_cache_redis_tls
  SOURCES integration/test_cache_redis_tls.c ${CMAKE_CURRENT_SOURCE_DIR}/support/cache_test_host.c
  LIBS PkgConfig::HIREDIS TIMEOUT 120)
add_dependencies(test_cache_redis_tls cache_redis)
