# bench_runs starts the built qts binary on config/qts.yaml and
# bench/configs/*.yaml, beside its feed plugins run alone (the limit).
qts_add_bench(bench_runs SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_runs.c)
target_compile_definitions(bench_runs PRIVATE
  QTS_BENCH_QTS_BIN="$<TARGET_FILE:qts>"
  QTS_BENCH_PLUGIN_DIR="${QTS_PLUGIN_BUILD_DIR}"
  QTS_BENCH_SHARED_DIR="${QTS_SHARED_DIR}")
add_dependencies(bench_runs qts feed_replay feed_synthetic broker_paper cache_memory store_sqlite)
