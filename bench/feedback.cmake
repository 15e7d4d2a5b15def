# bench_feedback needs the shared data folder and the built plugins.
qts_add_bench(bench_feedback SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_feedback.c)
target_compile_definitions(bench_feedback PRIVATE QTS_BENCH_SHARED_DIR="${QTS_SHARED_DIR}"
  QTS_BENCH_PLUGIN_DIR="${QTS_PLUGIN_BUILD_DIR}")
