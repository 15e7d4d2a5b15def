/* bench_runs.c — what users run: the built `qts` binary, started as a user
 * starts it (`qts run -c FILE`, its own process, its plugins, its store and
 * its files), on the default configuration and on the benchmark
 * configurations in bench/configs/. Each figure is printed beside the limit
 * measured in the same run: the same data through its feed plugin into L2
 * books alone (feed_alone.h), so a slower machine moves both.
 *
 *   runs.default_1M, runs.default_10M  config/qts.yaml (three Lua strategies,
 *        paper broker, SQLite store, memory cache): events/s of the whole
 *        process, ratio to feed_synthetic -> book, peak RSS
 *   runs.default_rss_growth_10M_vs_1M  peak RSS at 10M minus at 1M (KiB)
 *   runs.synthetic_ema_1M   one strategy that trades (ema_cross) on the demo
 *        market (bench/configs/synthetic_ema.yaml)
 *   runs.binance_json_ema, runs.binance_binary_ema  the real BTCUSDT capture
 *        (../shared/data/binance) through ema_cross, as gzip JSON and
 *        converted by `qts convert`; ratio to feed_replay -> book
 *   runs.bars_ftx_1m_ema, runs.bars_goog_daily_sma  45,031 one-minute bars
 *        and 2,148 daily bars: wall time of the whole process (ms)
 *
 * Every figure is the median of QTS_BENCH_REPEATS runs (default 3; the 10M
 * run once). Usage: bench_runs [--quick] (--quick: one run of each, no 10M). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "feed_alone.h"
#include "build_info.h"
#include "clock.h"

#define MAX_REPEATS 9

/* What one `qts run` gave. */
struct qts_run {
    double wall_s;     /* process start to exit, as the user waits */
    uint64_t events;   /* the run's "run N events" line */
    uint64_t fills;    /* the run's "orders ... N fills" line */
    long peak_rss_kib; /* of the qts process alone (wait4) */
};

static const char *shared_dir(void)
{
    const char *d = getenv("QTS_SHARED_DIR");
    return d ? d : QTS_BENCH_SHARED_DIR;
}

/* The run's own summary lines on stdout. */
static void parse_stdout(const char *path, struct qts_run *r)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long long a, b, c;
        if (sscanf(line, "run %llu events", &a) == 1)
            r->events = a;
        else if (sscanf(line, "orders %llu asked, %llu rejected, %llu fills", &a, &b, &c) == 3)
            r->fills = c;
    }
    fclose(f);
}

/* Runs `qts run -c config` with `env` ("K=V", or NULL) in a fresh var dir;
 * exits the benchmark with the run's stderr when the run fails, because a
 * figure of a failed run would say nothing. */
static void run_qts(const char *config, const char *env, struct qts_run *r)
{
    char dir[] = "/tmp/qts-bench-runs-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        exit(1);
    }
    char out[128], errp[128];
    snprintf(out, sizeof out, "%s/stdout.txt", dir);
    snprintf(errp, sizeof errp, "%s/stderr.txt", dir);
    memset(r, 0, sizeof *r);
    int64_t t0 = qts_mono_ns();
    pid_t pid = fork();
    if (pid == 0) {
        setenv("QTS_VAR_DIR", dir, 1);
        setenv("QTS_PLUGIN_DIR", QTS_BENCH_PLUGIN_DIR, 1);
        if (env)
            putenv((char *)env);
        if (!freopen(out, "w", stdout) || !freopen(errp, "w", stderr))
            _exit(126);
        execl(QTS_BENCH_QTS_BIN, "qts", "run", "-c", config, (char *)NULL);
        _exit(127);
    }
    int st = 0;
    struct rusage ru;
    if (pid < 0 || wait4(pid, &st, 0, &ru) != pid) {
        perror("bench_runs: fork/wait");
        exit(1);
    }
    r->wall_s = (double)(qts_mono_ns() - t0) / 1e9;
    r->peak_rss_kib = ru.ru_maxrss;
    parse_stdout(out, r);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || r->events == 0) {
        fprintf(stderr, "bench_runs: qts run -c %s%s%s failed (status %d); its stderr:\n", config,
                env ? " with " : "", env ? env : "", st);
        char cmd[256];
        snprintf(cmd, sizeof cmd, "tail -n 20 %s >&2", errp);
        if (system(cmd) != 0)
            fprintf(stderr, "(no stderr)\n");
        exit(1);
    }
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_runs: could not remove %s\n", dir);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The run of median wall time out of `n` runs. */
static void run_median(const char *config, const char *env, int n, struct qts_run *med)
{
    struct qts_run runs[MAX_REPEATS];
    double walls[MAX_REPEATS];
    for (int i = 0; i < n; i++) {
        run_qts(config, env, &runs[i]);
        walls[i] = runs[i].wall_s;
    }
    qsort(walls, (size_t)n, sizeof walls[0], cmp_double);
    for (int i = 0; i < n; i++)
        if (runs[i].wall_s == walls[n / 2]) {
            *med = runs[i];
            return;
        }
}

/* The limit: the feed plugin alone into books, median events/s of `n`. */
static double feed_limit(const char *plugin, const struct qts_bench_feed_conf *c, int n)
{
    double rates[MAX_REPEATS];
    for (int i = 0; i < n; i++) {
        struct qts_bench_feed_result fr;
        qts_bench_feed_run(plugin, c, &fr);
        rates[i] = (double)fr.events * 1e9 / (double)fr.ns;
    }
    qsort(rates, (size_t)n, sizeof rates[0], cmp_double);
    return rates[n / 2];
}

static void report_rate(const char *name, const struct qts_run *r, double limit,
                        const char *limit_what, const char *aims)
{
    double rate = (double)r->events / r->wall_s;
    char extra[640];
    snprintf(extra, sizeof extra,
             "\"wall_s\":%.3f,\"fills\":%llu,\"peak_rss_kib\":%ld,\"limit\":%.0f,"
             "\"limit_what\":\"%s\",\"ratio\":%.3f%s%s",
             r->wall_s, (unsigned long long)r->fills, r->peak_rss_kib, limit, limit_what,
             rate / limit, aims ? "," : "", aims ? aims : "");
    qts_bench_report_value(name, "events/s", rate, r->events, extra);
}

static void report_wall(const char *name, const struct qts_run *r, double limit_ms,
                        const char *limit_what, const char *aims)
{
    char extra[512];
    snprintf(extra, sizeof extra,
             "\"fills\":%llu,\"peak_rss_kib\":%ld,\"limit_ms\":%.3f,\"limit_what\":\"%s\"%s%s",
             (unsigned long long)r->fills, r->peak_rss_kib, limit_ms, limit_what, aims ? "," : "",
             aims ? aims : "");
    qts_bench_report_value(name, "ms", r->wall_s * 1e3, r->events, extra);
}

static void config_path(char *out, size_t cap, const char *rel)
{
    snprintf(out, cap, "%s/%s", QTS_SOURCE_DIR, rel);
}

/* The default configuration's feed, as config/qts.yaml sets it. */
static void synthetic_conf(struct qts_bench_feed_conf *c, const char *events)
{
    static const char *keys[] = {"symbols", "seed",    "rate", "events", "start_price",
                                 "px_exp",  "qty_exp", "tick", "lot"};
    const char *vals[] = {"BTCUSDT", "42", "50", events, "60000", "2", "5", "0.01", "0.001"};
    memset(c, 0, sizeof *c);
    for (int i = 0; i < 9; i++) {
        c->keys[i] = keys[i];
        c->vals[i] = vals[i];
    }
    c->n = 9;
}

static void bench_default(int repeats, bool quick)
{
    char cfg[1024];
    config_path(cfg, sizeof cfg, "config/qts.yaml");
    struct qts_bench_feed_conf c;
    synthetic_conf(&c, "1000000");
    double limit = feed_limit("feed_synthetic", &c, repeats);
    struct qts_run r1;
    run_median(cfg, "QTS_DEMO_EVENTS=1000000", repeats, &r1);
    report_rate("runs.default_1M", &r1, limit, "feed_synthetic.so -> L2 book, same events",
                "\"aim\":5000000,\"aim_ratio\":0.25");

    char ecfg[1024];
    config_path(ecfg, sizeof ecfg, "bench/configs/synthetic_ema.yaml");
    struct qts_run re;
    run_median(ecfg, "QTS_BENCH_EVENTS=1000000", repeats, &re);
    report_rate("runs.synthetic_ema_1M", &re, limit, "feed_synthetic.so -> L2 book, same events",
                "\"aim\":10000000,\"aim_ratio\":0.5");
    if (quick)
        return;

    synthetic_conf(&c, "10000000");
    double limit10 = feed_limit("feed_synthetic", &c, 1);
    struct qts_run r10;
    run_qts(cfg, "QTS_DEMO_EVENTS=10000000", &r10);
    report_rate("runs.default_10M", &r10, limit10, "feed_synthetic.so -> L2 book, same events",
                "\"aim\":5000000,\"aim_ratio\":0.25");
    char extra[200];
    snprintf(extra, sizeof extra, "\"rss_1M_kib\":%ld,\"rss_10M_kib\":%ld,\"aim_kib\":10240",
             r1.peak_rss_kib, r10.peak_rss_kib);
    qts_bench_report_value("runs.default_rss_growth_10M_vs_1M", "KiB",
                           (double)(r10.peak_rss_kib - r1.peak_rss_kib), r10.events, extra);
}

/* `qts convert IN OUT --format binance --symbols BTCUSDT:2:8`. */
static void convert(const char *in, const char *out)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen("/dev/null", "w", stdout))
            _exit(126);
        execl(QTS_BENCH_QTS_BIN, "qts", "convert", in, out, "--format", "binance", "--symbols",
              "BTCUSDT:2:8", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_runs: qts convert %s failed\n", in);
        exit(1);
    }
}

static void bench_binance(int repeats)
{
    char f1[1024], f2[1024], files[2100];
    snprintf(f1, sizeof f1, "%s/data/binance/spot_btcusdt_20240808.gz", shared_dir());
    snprintf(f2, sizeof f2, "%s/data/binance/spot_btcusdt_20240809.gz", shared_dir());
    snprintf(files, sizeof files, "%s,%s", f1, f2);
    char cfg[1024];
    config_path(cfg, sizeof cfg, "bench/configs/binance_ema.yaml");

    struct qts_bench_feed_conf c = {
        .keys = {"files", "symbols"}, .vals = {files, "BTCUSDT:2:8"}, .n = 2};
    double limit = feed_limit("feed_replay", &c, repeats);
    static char env[2200];
    snprintf(env, sizeof env, "QTS_BENCH_FILES=%s", files);
    struct qts_run r;
    run_median(cfg, env, repeats, &r);
    report_rate("runs.binance_json_ema", &r, limit,
                "feed_replay.so JSON decode -> L2 book, same files", "\"aim_ratio\":0.7");

    char dir[] = "/tmp/qts-bench-bin-XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    char b1[128], b2[128], bfiles[300];
    snprintf(b1, sizeof b1, "%s/0808.qev", dir);
    snprintf(b2, sizeof b2, "%s/0809.qev", dir);
    convert(f1, b1);
    convert(f2, b2);
    snprintf(bfiles, sizeof bfiles, "%s,%s", b1, b2);
    c.vals[0] = bfiles;
    double blimit = feed_limit("feed_replay", &c, repeats);
    static char benv[400];
    snprintf(benv, sizeof benv, "QTS_BENCH_FILES=%s", bfiles);
    run_median(cfg, benv, repeats, &r);
    report_rate("runs.binance_binary_ema", &r, blimit,
                "feed_replay.so binary decode -> L2 book, same files", "\"aim\":5000000");
    unlink(b1);
    unlink(b2);
    rmdir(dir);
}

/* A bar file through its configuration, beside its CSV decode alone. */
static void bench_bars(const char *name, const char *config, const char *file, const char *period_s,
                       const char *symbol, const char *px_exp, const char *qty_exp,
                       const char *aims, int repeats)
{
    char path[1024], cfg[1024];
    snprintf(path, sizeof path, "%s/data/bars/%s", shared_dir(), file);
    config_path(cfg, sizeof cfg, config);
    struct qts_bench_feed_conf c = {
        .keys = {"files", "format", "bar_period_s", "symbol", "default_px_exp", "default_qty_exp"},
        .vals = {path, "csv-bars", period_s, symbol, px_exp, qty_exp},
        .n = 6};
    double limit = feed_limit("feed_replay", &c, repeats);
    struct qts_bench_feed_result fr;
    qts_bench_feed_run("feed_replay", &c, &fr);
    struct qts_run r;
    static char env[1100]; /* putenv keeps the pointer */
    snprintf(env, sizeof env, "QTS_BARS_DIR=%s/data/bars", shared_dir());
    run_median(cfg, env, repeats, &r);
    report_wall(name, &r, (double)fr.events / limit * 1e3, "feed_replay.so CSV bars decode alone",
                aims);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    int repeats = getenv("QTS_BENCH_REPEATS") ? atoi(getenv("QTS_BENCH_REPEATS")) : 3;
    if (quick || repeats < 1)
        repeats = 1;
    if (repeats > MAX_REPEATS)
        repeats = MAX_REPEATS;
    struct stat sb;
    char probe[1024];
    snprintf(probe, sizeof probe, "%s/data/binance", shared_dir());
    bool have_data = stat(probe, &sb) == 0;

    bench_default(repeats, quick);
    if (!have_data) {
        fprintf(stderr, "bench_runs: %s is absent: the real-data runs are not measured\n", probe);
        return 0;
    }
    bench_binance(repeats);
    bench_bars("runs.bars_ftx_1m_ema", "bench/configs/ftx_1m_ema.yaml",
               "ftx_btc-perp_20211231-20220201_1m.csv", "60", "BTC-PERP", "1", "4", "\"aim_ms\":50",
               repeats);
    bench_bars("runs.bars_goog_daily_sma", "bench/configs/goog_daily_sma.yaml",
               "goog_daily_2004_2013.csv", "86400", "GOOG", "2", "0", "\"aim_ms\":20", repeats);
    return 0;
}
