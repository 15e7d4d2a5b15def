/* bench_binance_live.c — the live path of feed_binance, measured with the
 * built `qts` in paper mode against the local Binance server
 * (tests/tools/binance_server.py) playing the spot BTCUSDT capture at 40
 * times its recorded pace, with strategies/ema_cross.lua on broker_paper:
 *
 *  binance_live.frame_to_host   a WebSocket frame's last byte received (on
 *                               the feed's service thread) -> the event
 *                               decoded, sequenced and handed to the host
 *                               on the core loop (book committed, posted to
 *                               the strategies' worker), from the feed's
 *                               closing log line
 *  binance_live.decode_book_alone (reference)  the same-run limit: one
 *                               captured line decoded (md_binance) and, for
 *                               a depth diff, applied to a book, in memory
 *
 * The worker's own hand-off to the Lua callback is tick_to_order.paper's.
 * Prints nothing but a note on stderr when ../shared/data/binance is
 * absent. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "bn_book.h"
#include "clock.h"
#include "md_binance.h"

#define MESSAGES 30000

static pid_t spawn_sh(const char *cmd)
{
    pid_t p = fork();
    if (p == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return p;
}

static bool file_has(const char *path, const char *text)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static void live(const char *data, const char *dir)
{
    char cmd[8192], port_file[600], srv_log[600], run_err[600], cfg[600];
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(srv_log, sizeof srv_log, "%s/srv.log", dir);
    snprintf(run_err, sizeof run_err, "%s/run.err", dir);
    snprintf(cfg, sizeof cfg, "%s/qts.yaml", dir);
    snprintf(cmd, sizeof cmd,
             "exec python3 %s/tests/tools/binance_server.py --port-file %s --speed 40 "
             "--max-messages %d %s/spot_btcusdt_20240808.gz %s/spot_btcusdt_20240809.gz 2>%s",
             QTS_BENCH_SOURCE_DIR, port_file, MESSAGES, data, data, srv_log);
    pid_t srv = spawn_sh(cmd);
    int port = 0;
    for (int i = 0; i < 300 && !port; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &port) != 1)
                port = 0;
            fclose(f);
        }
        if (!port)
            usleep(100000);
    }
    FILE *y = fopen(cfg, "w");
    if (!port || !y) {
        fprintf(stderr, "bench_binance_live: the local server did not start (%s)\n", srv_log);
        kill(-srv, SIGTERM);
        waitpid(srv, NULL, 0);
        if (y)
            fclose(y);
        return;
    }
    fprintf(y,
            "mode: paper\npaths: {var_dir: %s/var}\nplugins: {dir: %s}\nlog: {level: info}\n"
            "instruments:\n  - {symbol: BTCUSDT, px_exp: 2, qty_exp: 8, tick_size: \"0.01\", "
            "lot_size: \"0.00001\"}\n"
            "feeds:\n  - {name: md, plugin: feed_binance, config: {symbols: BTCUSDT, "
            "ws_url: \"ws://127.0.0.1:%d\", rest_url: \"http://127.0.0.1:%d\"}}\n"
            "broker: {plugin: broker_paper, config: {allow_short: true}}\n"
            "account: {initial_cash: \"1000000\"}\n"
            "strategies:\n  dir: %s/strategies\n  list:\n    - {name: ema, file: ema_cross.lua, "
            "symbols: [BTCUSDT], params: {symbol: BTCUSDT, fast: 20, slow: 80, qty: 0.01, "
            "allow_short: true}}\n",
            dir, QTS_BENCH_PLUGIN_DIR, port, port, QTS_BENCH_SOURCE_DIR);
    fclose(y);
    snprintf(cmd, sizeof cmd, "exec %s run -c %s >/dev/null 2>%s", QTS_BENCH_QTS_BIN, cfg, run_err);
    pid_t q = spawn_sh(cmd);
    for (int i = 0; i < 1200 && !file_has(srv_log, "end of data"); i++)
        usleep(100000);
    usleep(500000);
    kill(q, SIGTERM);
    waitpid(q, NULL, 0);
    kill(-srv, SIGTERM);
    waitpid(srv, NULL, 0);
    FILE *f = fopen(run_err, "r");
    char line[4096];
    bool done = false;
    while (f && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "handed to the host: n=");
        long long n, p50, p99, mx;
        if (p && sscanf(p, "handed to the host: n=%lld p50=%lld ns p99=%lld ns max=%lld ns", &n,
                        &p50, &p99, &mx) == 4) {
            printf("{\"bench\":\"binance_live.frame_to_host\",\"unit\":\"ns\",\"p50\":%lld,"
                   "\"p99\":%lld,\"max\":%lld,\"n\":%lld,\"speed\":40,\"machine\":\"%s\"}\n",
                   p50, p99, mx, n, qts_bench_machine());
            done = true;
        }
    }
    if (f)
        fclose(f);
    if (!done)
        fprintf(stderr, "bench_binance_live: no latency line in %s\n", run_err);
}

static int define_id(void *arg, struct qts_md_inst *inst, struct qts_err *err)
{
    (void)arg;
    (void)err;
    inst->id = 0;
    return 0;
}

static void alone(const char *data)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/spot_btcusdt_20240808.gz", data);
    struct qts_md_file file;
    struct qts_err err;
    qts_err_clear(&err);
    if (qts_md_file_open(&file, path, &err) != 0)
        return;
    /* the lines in memory first: the file is not what is measured */
    char **lines = calloc(MESSAGES, sizeof *lines);
    size_t *lens = calloc(MESSAGES, sizeof *lens);
    size_t n = 0;
    const char *l;
    size_t len;
    while (n < MESSAGES && qts_md_file_line(&file, &l, &len, &err) == 1) {
        lines[n] = malloc(len + 1);
        memcpy(lines[n], l, len);
        lines[n][len] = '\0';
        lens[n++] = len;
    }
    qts_md_file_close(&file);
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    syms.define = define_id;
    qts_md_symtab_configure(&syms, "BTCUSDT:2:8", &err);
    struct qts_md_binance dec;
    qts_md_binance_init(&dec, &syms);
    static struct bn_book book;
    struct qts_bench_samples s;
    qts_bench_samples_init(&s, n);
    for (size_t i = 0; i < n; i++) {
        union qts_md_event ev;
        int64_t t0 = qts_mono_ns();
        int rc = qts_md_binance_decode(&dec, lines[i], lens[i], &ev, &err);
        if (rc == 1 && ev.h.type == QTS_EV_BOOK) {
            if (ev.h.flags & QTS_BOOK_SNAPSHOT)
                bn_book_snapshot(&book, &ev.book);
            else
                bn_book_diff(&book, &ev.book);
        }
        qts_bench_add(&s, qts_mono_ns() - t0);
        free(lines[i]);
    }
    qts_bench_report_latency("binance_live.decode_book_alone (reference)", &s, NULL);
    qts_bench_samples_free(&s);
    bn_book_free(&book);
    qts_md_binance_cleanup(&dec);
    qts_md_symtab_cleanup(&syms);
    free(lines);
    free(lens);
}

int main(void)
{
    char data[600];
    snprintf(data, sizeof data, "%s/data/binance", QTS_BENCH_SHARED_DIR);
    if (access(data, R_OK) != 0) {
        fprintf(stderr, "bench_binance_live: %s is absent: nothing measured\n", data);
        return 0;
    }
    char dir[] = "/tmp/qts-bench-binance-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    live(data, dir);
    alone(data);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_binance_live: %s left behind\n", dir);
    return 0;
}
