/* bench_engine.c — replay throughput of the whole host: the synthetic feed
 * plugin, the L2 book, the paper broker and (b) one Lua strategy receiving
 * every event, through qts_engine_run. Reference in the same run: the same
 * replay with no strategy.
 *
 * Prints events/s for each, and the peak RSS after each run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "build_info.h"
#include "clock.h"
#include "config.h"
#include "engine.h"
#include "log.h"

static double run(const char *dir, const char *name, long events, bool with_strategy)
{
    char yaml[4096], path[1024];
    snprintf(yaml, sizeof yaml,
             "mode: replay\n"
             "log: {level: error}\n"
             "paths: {var_dir: %s/var}\n"
             "plugins: {dir: %s}\n"
             "instruments:\n"
             "  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 5, tick_size: \"0.01\"}\n"
             "feeds:\n"
             "  - {name: md, plugin: feed_synthetic, config: {symbols: BTCUSDT, seed: 1,"
             " events: %ld, start_price: \"60000\", px_exp: 2, qty_exp: 5}}\n"
             "broker: {plugin: broker_paper}\n"
             "strategies:\n"
             "  dir: %s\n"
             "  list:\n%s",
             dir, getenv("QTS_PLUGIN_DIR") ? getenv("QTS_PLUGIN_DIR") : QTS_PLUGIN_DIR_BUILD,
             events, dir,
             with_strategy ? "    - {name: counter, file: counter.lua, symbols: [BTCUSDT]}\n"
                           : "    []\n");
    snprintf(path, sizeof path, "%s/%s.yaml", dir, name);
    qts_bench_write_file(path, yaml);
    struct qts_config *cfg = NULL;
    struct qts_diags d;
    qts_diags_init(&d);
    if (qts_config_load(path, &cfg, &d) != 0) {
        char line[600];
        qts_diag_format(&d.v[0], line, sizeof line);
        fprintf(stderr, "%s\n", line);
        exit(1);
    }
    qts_diags_cleanup(&d);
    char run_dir[1100];
    snprintf(run_dir, sizeof run_dir, "%s/run-%s", dir, name);
    struct qts_engine_opts opts = {.run_dir = run_dir};
    struct qts_engine *e = NULL;
    struct qts_err err;
    if (qts_engine_new(cfg, &opts, &e, &err) != 0) {
        fprintf(stderr, "engine: %s\n", err.msg);
        exit(1);
    }
    int64_t t0 = qts_mono_ns();
    if (qts_engine_run(e, &err) != 0) {
        fprintf(stderr, "run: %s\n", err.msg);
        exit(1);
    }
    int64_t ns = qts_mono_ns() - t0;
    struct qts_engine_stats st;
    qts_engine_get_stats(e, &st);
    qts_engine_free(e);
    qts_config_unref(cfg);
    return (double)st.events / ((double)ns / 1e9);
}

static long peak_rss_kib(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    long events = argc > 1 ? atol(argv[1]) : 2000000;
    qts_log_set_level(QTS_LOG_ERROR);
    char tmpl[] = "/tmp/qts-bench-engine-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir)
        return 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/counter.lua", dir);
    qts_bench_write_file(path, "local M = {}\n"
                               "function M.on_init(ctx) return { n = 0 } end\n"
                               "function M.on_trade(ctx, st, t) st.n = st.n + 1 end\n"
                               "function M.on_book(ctx, st, b) st.n = st.n + 1 end\n"
                               "return M\n");
    char extra[128];
    double ref = run(dir, "reference", events, false);
    snprintf(extra, sizeof extra, "\"peak_rss_kib\":%ld", peak_rss_kib());
    qts_bench_report_value("engine.replay_reference_no_strategy", "events/s", ref, (uint64_t)events,
                           extra);
    double with = run(dir, "lua", events, true);
    snprintf(extra, sizeof extra, "\"peak_rss_kib\":%ld,\"aim\":10000000", peak_rss_kib());
    qts_bench_report_value("engine.replay_one_lua_strategy_paper_broker", "events/s", with,
                           (uint64_t)events, extra);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
