/* bench_replay.c — market-data replay throughput and memory.
 *   replay.binary_decode_book  : qts binary file -> decode -> L2 book (events/s)
 *   replay.binance_json_decode : Binance capture lines already in memory ->
 *                                decoded events (events/s; the JSON part)
 *   replay.binance_file_book   : Binance .gz file -> gunzip + decode + book
 *   replay.synthetic_generate  : synthetic generator alone (events/s)
 *   replay.peak_rss_{1M,10M}   : peak RSS (KiB) of a child process replaying
 *                                1M / 10M synthetic events from a binary file
 *                                into the book; flat memory = equal figures.
 * Usage: bench_replay [events-for-throughput (default 4000000)]
 *                     [all|binary|binance|synthetic|memory] */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "book.h"
#include "clock.h"
#include "md_binance.h"
#include "md_binfile.h"
#include "md_source.h"
#include "md_synth.h"

static char tmpdir[256];

static void write_synthetic(const char *path, uint64_t n)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    syms.def_px_exp = 2;
    syms.def_qty_exp = 0;
    struct qts_md_inst *in = qts_md_symtab_get(&syms, "SYN", 3, NULL);
    struct qts_md_synth s;
    struct qts_md_synth_opts o = {.seed = 1, .max_events = n};
    qts_md_synth_init(&s, &o, in);
    struct qts_md_binwriter w;
    if (qts_md_binwriter_open(&w, path, NULL) < 0) {
        perror(path);
        exit(1);
    }
    union qts_md_event ev;
    while (qts_md_synth_next(&s, &ev) == 1)
        qts_md_binwriter_write(&w, in, &ev, NULL);
    qts_md_binwriter_close(&w, NULL);
    qts_md_synth_cleanup(&s);
    qts_md_symtab_cleanup(&syms);
}

/* Replays a file into one book per instrument (index 0..7); returns events. */
static uint64_t replay_file(const char *path, int format)
{
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    struct qts_md_source src;
    struct qts_md_source_opts o = {.format = format};
    struct qts_err err;
    if (qts_md_source_open(&src, path, &o, &syms, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    struct qts_book books[8];
    for (int i = 0; i < 8; i++)
        qts_book_init(&books[i]);
    union qts_md_event ev;
    uint64_t n = 0;
    int rc;
    int64_t sum = 0;
    while ((rc = qts_md_source_next(&src, &ev, &err)) != 0) {
        if (rc < 0)
            continue;
        n++;
        if (ev.h.type == QTS_EV_BOOK)
            qts_book_apply(&books[ev.h.instrument & 7], &ev.book);
        else if (ev.h.type == QTS_EV_TRADE)
            sum += ev.trade.qty;
    }
    qts_bench_keep(&sum);
    for (int i = 0; i < 8; i++)
        qts_book_cleanup(&books[i]);
    qts_md_source_close(&src);
    qts_md_symtab_cleanup(&syms);
    return n;
}

static void bench_binary(uint64_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/syn.qev", tmpdir);
    write_synthetic(path, n);
    replay_file(path, QTS_MD_FMT_BINARY); /* warm the page cache */
    double best = 0;
    for (int pass = 0; pass < 3; pass++) {
        int64_t t0 = qts_mono_ns();
        uint64_t k = replay_file(path, QTS_MD_FMT_BINARY);
        double rate = (double)k * 1e9 / (double)(qts_mono_ns() - t0);
        if (rate > best)
            best = rate;
    }
    qts_bench_report_value("replay.binary_decode_book", "events/s", best, n,
                           "\"aim\":20000000,\"passes\":3,\"report\":\"best\"");
    unlink(path);
}

static void bench_synth(uint64_t n)
{
    struct qts_md_inst in = {.symbol = "SYN", .px_exp = 2, .qty_exp = 0};
    struct qts_md_synth s;
    struct qts_md_synth_opts o = {.seed = 3, .max_events = n};
    qts_md_synth_init(&s, &o, &in);
    union qts_md_event ev;
    int64_t t0 = qts_mono_ns();
    uint64_t k = 0;
    while (qts_md_synth_next(&s, &ev) == 1)
        k++;
    double rate = (double)k * 1e9 / (double)(qts_mono_ns() - t0);
    qts_bench_keep(&ev);
    qts_md_synth_cleanup(&s);
    qts_bench_report_value("replay.synthetic_generate", "events/s", rate, k, NULL);
}

static void bench_binance(const char *shared)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/binance/usdm_btcusdt_20240808.gz", shared);
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "bench_replay: %s absent, Binance figures skipped\n", path);
        return;
    }
    /* lines into memory first, so only the decoder is timed */
    struct qts_md_file f;
    if (qts_md_file_open(&f, path, NULL) < 0)
        return;
    size_t cap = 1 << 20, len = 0, nl = 0, lcap = 1 << 16;
    char *text = malloc(cap);
    size_t *offs = malloc(lcap * sizeof *offs);
    const char *line;
    size_t n;
    while (qts_md_file_line(&f, &line, &n, NULL) == 1) {
        while (len + n + 1 > cap)
            text = realloc(text, cap *= 2);
        if (nl + 1 >= lcap)
            offs = realloc(offs, (lcap *= 2) * sizeof *offs);
        offs[nl++] = len;
        memcpy(text + len, line, n);
        len += n;
        text[len++] = '\n';
    }
    offs[nl] = len;
    qts_md_file_close(&f);
    struct qts_md_symtab syms;
    qts_md_symtab_init(&syms);
    qts_md_symtab_configure(&syms, "BTCUSDT:1:3", NULL);
    double best = 0;
    uint64_t events = 0;
    for (int pass = 0; pass < 5; pass++) {
        struct qts_md_binance d;
        qts_md_binance_init(&d, &syms);
        union qts_md_event ev;
        events = 0;
        int64_t t0 = qts_mono_ns();
        for (size_t i = 0; i < nl; i++)
            events += qts_md_binance_decode(&d, text + offs[i], offs[i + 1] - offs[i] - 1, &ev,
                                            NULL) == 1;
        double rate = (double)events * 1e9 / (double)(qts_mono_ns() - t0);
        best = rate > best ? rate : best;
        qts_md_binance_cleanup(&d);
    }
    char extra[128];
    snprintf(extra, sizeof extra,
             "\"bytes\":%zu,\"mb_per_s\":%.1f,\"file\":\"usdm_btcusdt_20240808\"", len,
             best * (double)len / (double)events / 1e6);
    qts_bench_report_value("replay.binance_json_decode", "events/s", best, events, extra);
    qts_md_symtab_cleanup(&syms);
    free(text);
    free(offs);

    int64_t t0 = qts_mono_ns();
    uint64_t k = replay_file(path, QTS_MD_FMT_BINANCE);
    double rate = (double)k * 1e9 / (double)(qts_mono_ns() - t0);
    qts_bench_report_value("replay.binance_file_book", "events/s", rate, k,
                           "\"includes\":\"gunzip+decode+book\"");
}

/* Write and replay *n synthetic events (in a child: bench_memory). */
static uint64_t write_and_replay(void *n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/mem.qev", tmpdir);
    write_synthetic(path, *(uint64_t *)n);
    uint64_t k = replay_file(path, QTS_MD_FMT_BINARY);
    unlink(path);
    return k;
}

/* Child process: write and replay n synthetic events; report its peak RSS. */
static void bench_memory(uint64_t n, const char *name)
{
    qts_bench_child_rss(name, write_and_replay, &n,
                        "\"what\":\"peak RSS, synthetic -> binary file -> decode + book\"");
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 4000000;
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/qts-bench-replay-XXXXXX", base);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    const char *shared = getenv("QTS_SHARED_DIR");
    if (!shared)
        shared = QTS_BENCH_SHARED_DIR;
    const char *only = argc > 2 ? argv[2] : "all";
    bool all = strcmp(only, "all") == 0;
    if (all || strcmp(only, "binary") == 0)
        bench_binary(n);
    if (all || strcmp(only, "synthetic") == 0)
        bench_synth(n);
    if (all || strcmp(only, "binance") == 0)
        bench_binance(shared);
    if (all || strcmp(only, "memory") == 0) {
        bench_memory(1000000, "replay.peak_rss_1M");
        bench_memory(10000000, "replay.peak_rss_10M");
    }
    rmdir(tmpdir);
    return 0;
}
