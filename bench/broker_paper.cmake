# bench_broker_paper dlopens the real broker_paper.so and links portfolio.
qts_add_bench(bench_broker_paper SOURCES ${CMAKE_CURRENT_LIST_DIR}/bench_broker_paper.c)
target_compile_definitions(bench_broker_paper PRIVATE
  QTS_BENCH_PLUGIN_DIR="${QTS_PLUGIN_BUILD_DIR}")
add_dependencies(bench_broker_paper broker_paper)
