# bench_replay needs the shared data folder location for the Binance figures.
qts_add_bench(bench_replay SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_replay.c)
target_compile_definitions(bench_replay PRIVATE QTS_BENCH_SHARED_DIR="${QTS_SHARED_DIR}")
# bench_feeds loads the real feed plugins with dlopen.
qts_add_bench(bench_feeds SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_feeds.c)
target_compile_definitions(bench_feeds PRIVATE QTS_BENCH_PLUGIN_DIR="${QTS_PLUGIN_BUILD_DIR}")
add_dependencies(bench_feeds feed_replay feed_synthetic)
