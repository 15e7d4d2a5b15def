/* bench_feeds.c — the feed plugins end to end, loaded with dlopen like the
 * host does: poll -> emit -> L2 book per instrument.
 *   feeds.synthetic_plugin_book : feed_synthetic.so, events/s
 *   feeds.replay_plugin_binary  : feed_replay.so on a qts binary file, events/s
 *   feeds.synthetic_peak_rss_{1M,10M} : peak RSS (KiB) of a child process that
 *     replays 1M / 10M events from feed_synthetic.so into books.
 * Usage: bench_feeds [events (default 2000000)] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "feed_alone.h"
#include "md_binfile.h"
#include "md_synth.h"

static uint64_t synth_events(void *events)
{
    struct qts_bench_feed_conf c = {
        .keys = {"events", "symbols"}, .vals = {events, "AAA,BBB"}, .n = 2};
    struct qts_bench_feed_result r;
    qts_bench_feed_run("feed_synthetic", &c, &r);
    return r.events;
}

static void synth_rss(const char *events, const char *name)
{
    qts_bench_child_rss(name, synth_events, (void *)events,
                        "\"what\":\"peak RSS, feed_synthetic.so -> emit -> book\"");
}

int main(int argc, char **argv)
{
    const char *n = argc > 1 ? argv[1] : "2000000";
    struct qts_bench_feed_conf sc = {.keys = {"events", "symbols"}, .vals = {n, "AAA,BBB"}, .n = 2};
    struct qts_bench_feed_result r;
    qts_bench_feed_run("feed_synthetic", &sc, &r);
    qts_bench_report_value("feeds.synthetic_plugin_book", "events/s",
                           (double)r.events * 1e9 / (double)r.ns, r.events, NULL);

    /* a binary file written from the generator, replayed by feed_replay.so */
    char dir[] = "/tmp/qts-bench-feeds-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[256];
    snprintf(path, sizeof path, "%s/syn.qev", dir);
    struct qts_md_inst in = {.symbol = "SYN", .venue = "synthetic", .px_exp = 2, .qty_exp = 0};
    struct qts_md_synth s;
    struct qts_md_synth_opts o = {.seed = 9, .max_events = strtoull(n, NULL, 10)};
    qts_md_synth_init(&s, &o, &in);
    struct qts_md_binwriter w;
    if (qts_md_binwriter_open(&w, path, NULL) < 0)
        return 1;
    union qts_md_event ev;
    while (qts_md_synth_next(&s, &ev) == 1)
        qts_md_binwriter_write(&w, &in, &ev, NULL);
    qts_md_binwriter_close(&w, NULL);
    qts_md_synth_cleanup(&s);
    struct qts_bench_feed_conf rc = {.keys = {"files"}, .vals = {path}, .n = 1};
    qts_bench_feed_run("feed_replay", &rc, &r); /* warm the page cache */
    qts_bench_feed_run("feed_replay", &rc, &r);
    qts_bench_report_value("feeds.replay_plugin_binary", "events/s",
                           (double)r.events * 1e9 / (double)r.ns, r.events,
                           "\"includes\":\"read+decode+emit+book\"");
    unlink(path);
    rmdir(dir);
    synth_rss("1000000", "feeds.synthetic_peak_rss_1M");
    synth_rss("10000000", "feeds.synthetic_peak_rss_10M");
    return 0;
}
