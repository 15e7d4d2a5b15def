# synth_stats: not a benchmark (no bench_ prefix, so scripts/run-bench
# passes it by); the demo market's figures, docs/market-data.md.
qts_add_bench(synth_stats SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/synth_stats.c)
target_link_libraries(synth_stats PRIVATE m)
