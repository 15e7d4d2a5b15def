# bench_binance_live starts the local Binance server and the built qts in
# paper mode with feed_binance; its reference decodes in memory with the
# feed's own book module.
qts_add_bench(bench_binance_live SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/bench_binance_live.c
  ${PROJECT_SOURCE_DIR}/plugins/feed_binance/bn_book.c)
target_include_directories(bench_binance_live PRIVATE ${PROJECT_SOURCE_DIR}/plugins/feed_binance)
target_compile_definitions(bench_binance_live PRIVATE
  QTS_BENCH_QTS_BIN="$<TARGET_FILE:qts>"
  QTS_BENCH_PLUGIN_DIR="${QTS_PLUGIN_BUILD_DIR}"
  QTS_BENCH_SHARED_DIR="${QTS_SHARED_DIR}"
  QTS_BENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(bench_binance_live qts feed_binance broker_paper)
