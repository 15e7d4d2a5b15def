# bench_replay needs the shared data folder location for the Binance figures.
qts_add_bench(bench_replay SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_replay.c)
target_compile_definitions(bench_replay PRIVATE QTS_BENCH_SHARED_DIR="${QTS_SHARED_DIR}")
