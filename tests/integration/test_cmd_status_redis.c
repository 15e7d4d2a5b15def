/* test_cmd_status_redis.c — `qts status --from-redis` run as its own
 * process against keys written by the real cache_redis plugin through the
 * cache writer, as a running host would. */
#include "test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache_test_host.h"
#include "cache_writer.h"

static int g_port;

static int run_qts(const char *args, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s/qts %s 2>&1", qts_test_build_dir(), args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool idle(void *in)
{
    struct qts_cache_health h;
    return qts_th_health(in, &h) == 0 && h.state == QTS_CACHE_UP && h.pending == 0;
}

static void wait_idle(struct qts_th *th, struct qts_th_inst *in)
{
    assert_true(qts_th_wait_for(th, idle, in, 3000));
}

static void on_budget(void *arg, int status, int64_t used)
{
    (void)arg;
    assert_int_equal(status, 0);
    assert_int_equal(used, 1234);
}

static void test_status_shows_positions_orders_risk(void **state)
{
    (void)state;
    struct qts_th th;
    qts_th_init(&th);
    struct qts_th_inst in;
    struct qts_err err;
    char prefix[64], port[16], shared[64];
    snprintf(prefix, sizeof prefix, "qts:st%d:", (int)getpid());
    snprintf(port, sizeof port, "%d", g_port);
    snprintf(shared, sizeof shared, "qts:st%d-shared:", (int)getpid());
    const char *cfg_pairs[] = {"host", "127.0.0.1",     "port", port, "prefix",
                               prefix, "shared_prefix", shared, NULL};
    assert_int_equal(qts_th_load(&th, &in, NULL, "cache_redis", &err), 0);
    assert_int_equal(qts_th_start_with(&in, cfg_pairs, &err), 0);
    wait_idle(&th, &in);
    struct qts_cache_writer_cfg cfg = {.ttl_pos_ms = 30000, .ttl_risk_ms = 30000};
    struct qts_cache_writer *w;
    assert_int_equal(qts_cache_writer_new(&th.loop, in.ops, in.self, &cfg, &w, NULL), 0);
    struct qts_cache_position p = {
        .qty = 250, .avg_px = 6000012, .unrealized_pnl = 1500000, .px_exp = 2, .qty_exp = 2};
    qts_cache_writer_position(w, "BTCUSDT", &p);
    struct qts_cache_order o = {.symbol = "BTCUSDT",
                                .status = "PARTIALLY_FILLED",
                                .side = QTS_SIDE_BUY,
                                .qty = 3,
                                .filled_qty = 1,
                                .pending_qty = 2,
                                .limit_px = 6000000,
                                .px_exp = 2};
    qts_cache_writer_order(w, 77, &o);
    struct qts_cache_risk r = {
        .exposure_used = 150000000, .trade_count = 12, .safety_state = "NORMAL"};
    qts_cache_writer_risk(w, &r);
    qts_cache_writer_flush(w);
    assert_int_equal(in.ops->budget(in.self, (struct qts_str){"acct1:exposure", 14}, 1234, 100000,
                                    0, on_budget, NULL),
                     0);
    wait_idle(&th, &in);

    char args[256], out[8192];
    snprintf(args, sizeof args,
             "status --from-redis --redis redis://127.0.0.1:%d --prefix %s "
             "--shared-prefix %s",
             g_port, prefix, shared);
    int rc = run_qts(args, out, sizeof out);
    if (rc != 0)
        fprintf(stderr, "%s", out);
    assert_int_equal(rc, 0);
    QTS_ASSERT_HAS(out, "positions (1)", "BTCUSDT", "60000.12", "orders (1)", "PARTIALLY_FILLED",
                   "trade_count", "NORMAL", "shared budgets");
    char *b = strstr(out, "acct1:exposure");
    assert_non_null(b);
    assert_non_null(strstr(b, "1234"));

    /* another host id: nothing live there */
    snprintf(args, sizeof args,
             "status --from-redis --redis redis://127.0.0.1:%d --host-id "
             "nobody-%d",
             g_port, (int)getpid());
    assert_int_equal(run_qts(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "no live keys"));
    /* without --from-redis, status asks the host over its admin socket:
     * nothing answers here */
    assert_int_equal(run_qts("status -s /nonexistent/qts.sock", out, sizeof out), 1);
    assert_int_equal(run_qts("status --bogus", out, sizeof out), 2);

    qts_cache_writer_free(w);
    qts_th_close(&th, &in);
}

int main(void)
{
    g_port = qts_test_service_port("QTS_REDIS_PORT");
    if (!g_port)
        return QTS_TEST_SKIP;
    unsetenv("QTS_REDIS_URL"); /* the status command would read it */
    static void (*const fns[])(void **) = {test_status_shows_positions_orders_risk};
    return qts_test_run(fns, 1, "test_status_shows_positions_orders_risk");
}
