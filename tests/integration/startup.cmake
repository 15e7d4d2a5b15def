# The engine's start-up sync against a venue fixture plugin (a real shared
# object, built next to the test, not into build/plugins) and, under
# scripts/with-services, a real Redis for the warm state.
set(QTS_VENUE_FIXTURE_DIR ${PROJECT_BINARY_DIR}/tests/integration/fixtures)
add_library(venue_fixture MODULE ${CMAKE_CURRENT_LIST_DIR}/fixtures/venue_fixture.c)
set_target_properties(venue_fixture PROPERTIES PREFIX "" LIBRARY_OUTPUT_DIRECTORY
  ${QTS_VENUE_FIXTURE_DIR} C_VISIBILITY_PRESET hidden)
target_link_libraries(venue_fixture PRIVATE qts_plugin_api qts_warnings qts_sanitizers)
qts_add_test(integration test_engine_startup
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_engine_startup.c
  LIBS PkgConfig::HIREDIS Threads::Threads TIMEOUT 120)
target_compile_definitions(test_engine_startup PRIVATE
  QTS_VENUE_FIXTURE_DIR="${QTS_VENUE_FIXTURE_DIR}")
add_dependencies(test_engine_startup venue_fixture cache_memory cache_redis)
