/* feed_alone.h — a feed plugin run alone, loaded with dlopen as the
 * host loads it: start, poll to the end, every book update applied to an L2
 * book. It is the limit a replay of the same data can reach, printed beside
 * the host's figure by the benchmarks of what users run. */
#ifndef QTS_BENCH_FEED_ALONE_H
#define QTS_BENCH_FEED_ALONE_H

#include <stdint.h>

#define QTS_BENCH_FEED_KEYS 12

/* The plugin's `config:` keys (borrowed strings, `n` of each). */
struct qts_bench_feed_conf {
    const char *keys[QTS_BENCH_FEED_KEYS], *vals[QTS_BENCH_FEED_KEYS];
    int n;
};

struct qts_bench_feed_result {
    uint64_t events; /* emitted by the plugin */
    int64_t ns;      /* from the first poll to the end of data */
};

/* Runs `plugin` (a name: <plugin dir>/<plugin>.so; the plugin dir is
 * $QTS_PLUGIN_DIR or the build's) to the end of its data. Exits the
 * process with a message when it cannot load or start. */
void qts_bench_feed_run(const char *plugin, const struct qts_bench_feed_conf *conf,
                        struct qts_bench_feed_result *out);

#endif
