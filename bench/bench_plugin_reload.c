/* bench_plugin_reload.c — reload pause of a feed plugin.
 *
 * The host pulls a replay-style feed (poll, one event per call) from a
 * uv_idle handle, in lockstep, and reloads the plugin every 50 events,
 * alternating two builds with state hand-over. The pause is the time from
 * the last event handled from the old instance to the first handled from
 * the new one: copy + dlopen + checks + init + stop + export/import + start
 * + one loop turn. Reference, same run: the gap between two consecutive
 * events of one instance. The run fails if any event is lost or repeated.
 *
 * Usage: bench_plugin_reload [reloads]   (default 1000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "clock.h"
#include "config_node.h"
#include "log.h"
#include "plugin_instance.h"
#include "plugin_manager.h"
#include "util.h"

struct ctx {
    struct qts_plugin_manager *m;
    uv_idle_t idle;
    uint64_t last_gen, expect_id, n_events, since_reload;
    int64_t last_ns;
    int reloads, want;
    bool is_bad;
    struct qts_bench_samples pause, gap;
};

static int on_trade(void *arg, const struct qts_plugin_origin *from, const struct qts_trade *t)
{
    struct ctx *c = arg;
    int64_t now = qts_mono_ns();
    if (t->trade_id != c->expect_id)
        c->is_bad = true;
    c->expect_id = t->trade_id + 1;
    if (c->last_ns) {
        if (from->gen != c->last_gen)
            qts_bench_add(&c->pause, now - c->last_ns);
        else
            qts_bench_add(&c->gap, now - c->last_ns);
    }
    c->last_gen = from->gen;
    c->last_ns = now;
    c->n_events++;
    c->since_reload++;
    return 0;
}

static void on_idle(uv_idle_t *h)
{
    struct ctx *c = h->data;
    struct qts_plugin_inst *inst = qts_plugin_manager_current(c->m, "md");
    if (c->since_reload >= 50) {
        c->since_reload = 0;
        if (c->reloads == c->want) {
            uv_idle_stop(h);
            return;
        }
        char path[1024];
        snprintf(path, sizeof path, "%s/bench_fx_feed_v%d.so", QTS_BENCH_FIXTURE_DIR,
                 c->reloads % 2 ? 1 : 2);
        struct qts_err err;
        if (qts_plugin_manager_reload(c->m, "md", path, &err) != 0) {
            fprintf(stderr, "reload failed: %s\n", err.msg);
            exit(1);
        }
        c->reloads++;
        return; /* the next event comes from the next loop turn */
    }
    const struct qts_feed_ops *ops = qts_plugin_inst_desc(inst)->ops;
    qts_plugin_inst_enter(inst);
    ops->poll(qts_plugin_inst_self(inst), 1);
    qts_plugin_inst_leave(inst);
}

int main(int argc, char **argv)
{
    int want = argc > 1 ? atoi(argv[1]) : 1000;
    qts_log_set_level(QTS_LOG_WARN); /* a log line per reload would dominate */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct ctx c = {.want = want, .expect_id = 1};
    qts_bench_samples_init(&c.pause, (size_t)want);
    qts_bench_samples_init(&c.gap, (size_t)want * 50);
    struct qts_event_sink sink = {.ctx = &c, .trade = on_trade};
    struct qts_plugin_env env = {.loop = &loop, .sink = &sink};
    char tmpl[] = "/tmp/qts-bench-XXXXXX";
    char *tmp = mkdtemp(tmpl);
    char gen[256];
    snprintf(gen, sizeof gen, "%s/plugins.gen", tmp);
    struct qts_plugin_manager_opts o = {.env = &env, .gen_dir = gen};
    struct qts_err err;
    QTS_ASSERT(qts_plugin_manager_new(&o, &c.m, &err) == 0);
    const char *yaml = "mode: poll\nper_tick: 1\n";
    struct qts_cfg_node *cfg;
    struct qts_diags d;
    qts_diags_init(&d);
    QTS_ASSERT(qts__cfg_parse("bench.yaml", yaml, strlen(yaml), &cfg, &d) == 0);
    qts_diags_cleanup(&d);
    char path[1024];
    snprintf(path, sizeof path, "%s/bench_fx_feed_v1.so", QTS_BENCH_FIXTURE_DIR);
    if (qts_plugin_manager_add(c.m, "md", QTS_KIND_FEED, path, cfg, &err) != 0 ||
        qts_plugin_manager_start(c.m, &err) != 0) {
        fprintf(stderr, "load failed: %s\n", err.msg);
        return 1;
    }
    uv_idle_init(&loop, &c.idle);
    c.idle.data = &c;
    uv_idle_start(&c.idle, on_idle);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&c.idle, NULL);
    qts_plugin_manager_close(c.m);
    uv_run(&loop, UV_RUN_DEFAULT);
    qts_plugin_manager_free(c.m);
    uv_loop_close(&loop);
    qts__cfg_node_free(cfg);
    rmdir(gen);
    rmdir(tmp);
    if (c.is_bad || c.n_events != c.expect_id - 1) {
        fprintf(stderr, "events lost or repeated across reloads\n");
        return 1;
    }
    char extra[160];
    snprintf(extra, sizeof extra, "\"aim_p99\":50000000,\"reloads\":%d,\"events\":%llu", c.reloads,
             (unsigned long long)c.n_events);
    qts_bench_report_latency("plugin.reload_pause", &c.pause, extra);
    qts_bench_report_latency("plugin.reference_event_gap", &c.gap, NULL);
    qts_bench_samples_free(&c.pause);
    qts_bench_samples_free(&c.gap);
    return 0;
}
