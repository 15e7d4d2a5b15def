# Reload-pause benchmark: needs two builds of the fixture feed plugin, built
# here (build/bench/fixtures) so benchmarks do not depend on the test tree.
set(QTS_BENCH_FIXTURE_DIR ${PROJECT_BINARY_DIR}/bench/fixtures)
foreach(v 1 2)
  add_library(bench_fx_feed_v${v} MODULE
    ${PROJECT_SOURCE_DIR}/tests/abi/fixtures/feed_fixture.c)
  set_target_properties(bench_fx_feed_v${v} PROPERTIES PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY ${QTS_BENCH_FIXTURE_DIR} C_VISIBILITY_PRESET hidden)
  target_link_libraries(bench_fx_feed_v${v} PRIVATE qts_plugin_api qts_warnings
    qts_sanitizers Threads::Threads)
  target_compile_definitions(bench_fx_feed_v${v} PRIVATE FX_VERSION="${v}.0.0" FX_TAG=${v})
endforeach()
qts_add_bench(bench_plugin_reload SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_plugin_reload.c)
target_compile_definitions(bench_plugin_reload PRIVATE
  QTS_BENCH_FIXTURE_DIR="${QTS_BENCH_FIXTURE_DIR}")
add_dependencies(bench_plugin_reload bench_fx_feed_v1 bench_fx_feed_v2)
