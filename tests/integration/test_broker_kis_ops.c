/* test_broker_kis_ops.c — broker_kis's ABI 1.2 operations and its order
 * map on disk, against the local KIS mock (tests/fixtures/kis_mock.py).
 *
 * The real broker_kis.so is loaded with dlopen by the host's plugin manager
 * with the production host services (libcurl HTTP on a libuv loop, posts,
 * timers); events arrive in a recording sink. Cases:
 * - query_market: last price as a trade, then the 10-level book snapshot,
 *   then query_done; a KIS reject ends the query with QTS_EREJECT, a
 *   rate-limit reply is backed off and retried;
 * - query_buying_power: cash and buyable quantity at a price and at market;
 * - subscribe/unsubscribe while running, seen by the mock, within the
 *   per-session limit (QTS_EFULL past it), resubscribed after a drop;
 * - restart: an order placed by one instance is cancelled through a new
 *   instance that read the state file (corrupt lines skipped), and the
 *   open-order reconciliation maps it back to its client id.
 * Waits are bounded by deadlines, never timed assertions. */
#include "test_support.h"
#include "kis_mock_test.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config_node.h"
#include "http_client.h"
#include "metrics.h"
#include "plugin_instance.h"
#include "plugin_manager.h"
#include "util.h"

static char *g_dir;
static const char *g_env = "vts"; /* the mock's and the plugin's environment */
static char g_mock_dir[900];      /* where the mock writes stats.json */
static FILE *g_mock;
static int g_rest, g_ws, g_pid;

/* ------------------------------------------------------------ recording sink */

enum rec_kind { R_TRADE = 1, R_BOOK, R_EXEC, R_DONE, R_BP };

struct rec {
    int kind;
    uint32_t instrument;
    int64_t px, qty;         /* trade; book: best ask px, its qty */
    int64_t bid_px, bid_qty; /* book: best bid */
    uint32_t n_bids, n_asks, flags;
    uint64_t req_id; /* done, buying power */
    int status;      /* done */
    struct qts_exec_report rep;
    struct qts_buying_power bp;
};

#define MAX_REC 20000
static struct rec g_rec[MAX_REC];
static size_t g_nrec;

/* A new record of `kind` for the sink callback that got ctx and from (both
 * unused: there is one sink); NULL once the log is full. */
static struct rec *rec_add(int kind, void *ctx, const struct qts_plugin_origin *from)
{
    (void)ctx;
    (void)from;
    if (g_nrec == MAX_REC)
        return NULL; /* the WebSocket keeps sending: the first ones suffice */
    struct rec *r = &g_rec[g_nrec++];
    memset(r, 0, sizeof *r);
    r->kind = kind;
    return r;
}

static int s_trade(void *ctx, const struct qts_plugin_origin *from, const struct qts_trade *ev)
{
    struct rec *r = rec_add(R_TRADE, ctx, from);
    if (r) {
        r->instrument = ev->h.instrument;
        r->px = ev->px;
        r->qty = ev->qty;
    }
    return 0;
}

static int s_book(void *ctx, const struct qts_plugin_origin *from, const struct qts_book_update *ev)
{
    struct rec *r = rec_add(R_BOOK, ctx, from);
    if (r) {
        r->instrument = ev->h.instrument;
        r->flags = ev->h.flags;
        r->n_bids = ev->n_bids;
        r->n_asks = ev->n_asks;
        if (ev->n_asks) {
            r->px = ev->asks[0].px;
            r->qty = ev->asks[0].qty;
        }
        if (ev->n_bids) {
            r->bid_px = ev->bids[0].px;
            r->bid_qty = ev->bids[0].qty;
        }
    }
    return 0;
}

static int s_exec(void *ctx, const struct qts_plugin_origin *from,
                  const struct qts_exec_report *rep)
{
    struct rec *r = rec_add(R_EXEC, ctx, from);
    if (r)
        r->rep = *rep;
    return 0;
}

static int s_done(void *ctx, const struct qts_plugin_origin *from, uint64_t req_id, int status)
{
    struct rec *r = rec_add(R_DONE, ctx, from);
    if (r) {
        r->req_id = req_id;
        r->status = status;
    }
    return 0;
}

static int s_bp(void *ctx, const struct qts_plugin_origin *from, const struct qts_buying_power *bp)
{
    struct rec *r = rec_add(R_BP, ctx, from);
    if (r) {
        r->bp = *bp;
        r->req_id = bp->req_id;
    }
    return 0;
}

static struct qts_instrument g_inst[2] = {
    {.struct_size = sizeof(struct qts_instrument),
     .id = 1,
     .symbol = "005930",
     .venue = "krx",
     .lot_size = 1,
     .min_qty = 1},
    {.struct_size = sizeof(struct qts_instrument),
     .id = 2,
     .symbol = "000660",
     .venue = "krx",
     .lot_size = 1,
     .min_qty = 1},
};

static const struct qts_instrument *s_find(void *ctx, const char *symbol)
{
    (void)ctx;
    for (size_t i = 0; i < 2; i++)
        if (strcmp(g_inst[i].symbol, symbol) == 0)
            return &g_inst[i];
    return NULL;
}

static const struct qts_event_sink g_sink = {.trade = s_trade,
                                             .book = s_book,
                                             .exec_report = s_exec,
                                             .query_done = s_done,
                                             .instrument_find = s_find,
                                             .buying_power = s_bp};

/* ----------------------------------------------------------------- the mock */

static void start_mock(const char *env)
{
    g_env = env;
    snprintf(g_mock_dir, sizeof g_mock_dir, "%s/mock-%s", g_dir, env);
    assert_true(mkdir(g_mock_dir, 0700) == 0 || errno == EEXIST);
    g_mock = kis_mock_start(env, g_mock_dir, "--fill-qty 0 --max-subs 5", &g_rest, &g_ws, &g_pid);
}

static void stop_mock(void) { kis_mock_stop(&g_mock, &g_pid); }

static long mock_stat(const char *key) { return kis_mock_stat(g_mock_dir, key); }

static bool mock_active(const char *tr_key)
{
    char *buf = kis_mock_stats(g_mock_dir), pat[80];
    snprintf(pat, sizeof pat, "\"%s\"", tr_key);
    bool yes = strstr(buf, pat) != NULL;
    free(buf);
    return yes;
}

static void mock_post(const char *path, const char *json) { kis_mock_post(g_rest, path, json); }

/* ------------------------------------------------------------------- the rig */

struct rig {
    uv_loop_t loop;
    uv_timer_t tick; /* wakes the loop so deadlines are checked */
    struct qts_http_client *http;
    struct qts_metrics *metrics;
    struct qts_plugin_env env;
    struct qts_plugin_manager *m;
    struct qts_cfg_node *cfg;
    struct qts_plugin_inst *inst;
    const struct qts_broker_ops *ops;
    void *self;
};

static struct rig *g_live; /* the rig a failed case left running */

static void on_tick(uv_timer_t *t) { (void)t; }

static void rig_start(struct rig *r, const char *extra)
{
    memset(r, 0, sizeof *r);
    assert_int_equal(uv_loop_init(&r->loop), 0);
    assert_int_equal(uv_timer_init(&r->loop, &r->tick), 0);
    assert_int_equal(uv_timer_start(&r->tick, on_tick, 20, 20), 0);
    assert_int_equal(qts_http_client_new(&r->loop, &r->http, NULL), 0);
    r->metrics = qts_metrics_new();
    r->env = (struct qts_plugin_env){
        .loop = &r->loop, .http = r->http, .metrics = r->metrics, .sink = &g_sink};
    char yaml[2048], gen[1100];
    snprintf(yaml, sizeof yaml,
             "env: %s\n"
             "rest_url: \"http://127.0.0.1:%d\"\n"
             "ws_url: \"ws://127.0.0.1:%d/tryitout\"\n"
             "token_cache: \"%s/kis-token.json\"\n"
             "state_file: \"%s/state/kis-orders.jsonl\"\n"
             "enforce_sessions: false\n"
             "rate_per_s: 20\n"
             "trades: \"005930\"\n"
             "books: \"005930\"\n"
             "max_subscriptions: 5\n"
             "ws_reconnect_min_ms: 50\n"
             "token_min_interval_s: 1\n"
             "%s",
             g_env, g_rest, g_ws, g_dir, g_dir, extra ? extra : "");
    r->cfg = qts_test_cfg_node("kis.yaml", yaml);
    snprintf(gen, sizeof gen, "%s/plugins.gen", g_dir);
    struct qts_plugin_manager_opts o = {.env = &r->env, .gen_dir = gen};
    assert_int_equal(qts_plugin_manager_new(&o, &r->m, NULL), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/broker_kis.so", qts_test_plugin_dir());
    struct qts_err err;
    qts_err_clear(&err);
    int rc = qts_plugin_manager_add(r->m, "broker", QTS_KIND_BROKER, path, r->cfg, &err);
    if (rc == 0)
        rc = qts_plugin_manager_start(r->m, &err);
    if (rc != 0)
        fail_msg("broker_kis: %s", err.msg);
    r->inst = qts_plugin_manager_current(r->m, "broker");
    assert_non_null(r->inst);
    r->ops = qts_plugin_inst_desc(r->inst)->ops;
    r->self = qts_plugin_inst_self(r->inst);
    g_live = r;
    assert_true(r->ops->struct_size >=
                offsetof(struct qts_broker_ops, unsubscribe) + sizeof r->ops->unsubscribe);
}

static void mock_wait_no_session(void)
{
    /* the mock allows one session per app key: the next instance connects
     * once the mock has seen this one close */
    int64_t deadline = qts_mono_ns() + INT64_C(30000000000);
    while (mock_stat("active_subs") > 0) {
        if (qts_mono_ns() > deadline)
            fail_msg("the mock still holds the WebSocket session");
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static void rig_stop(struct rig *r)
{
    g_live = NULL;
    qts_plugin_manager_close(r->m);
    qts_http_client_close(r->http);
    uv_close((uv_handle_t *)&r->tick, NULL);
    assert_int_equal(uv_run(&r->loop, UV_RUN_DEFAULT), 0);
    qts_plugin_manager_free(r->m);
    assert_int_equal(uv_loop_close(&r->loop), 0);
    qts_metrics_free(r->metrics);
    qts__cfg_node_free(r->cfg);
    mock_wait_no_session();
}

/* Runs the loop until cond(arg) holds; fails after 30 s. */
static void run_until(struct rig *r, bool (*cond)(const void *), const void *arg, const char *what)
{
    int64_t deadline = qts_mono_ns() + INT64_C(30000000000);
    while (!cond(arg)) {
        if (qts_mono_ns() > deadline)
            fail_msg("timed out waiting for %s", what);
        uv_run(&r->loop, UV_RUN_ONCE);
    }
}

static const struct rec *find_done(uint64_t req_id)
{
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_DONE && g_rec[i].req_id == req_id)
            return &g_rec[i];
    return NULL;
}

static bool done_seen(const void *arg) { return find_done(*(const uint64_t *)arg) != NULL; }

static void wait_done(struct rig *r, uint64_t req_id)
{
    run_until(r, done_seen, &req_id, "query_done");
}

struct stat_want {
    const char *key;
    long min;
};

static bool stat_reached(const void *arg)
{
    const struct stat_want *w = arg;
    return mock_stat(w->key) >= w->min;
}

static bool stat_equals(const void *arg)
{
    const struct stat_want *w = arg;
    return mock_stat(w->key) == w->min;
}

static void wait_stat(struct rig *r, const char *key, long min)
{
    struct stat_want w = {key, min};
    run_until(r, stat_reached, &w, key);
}

static void wait_stat_eq(struct rig *r, const char *key, long v)
{
    struct stat_want w = {key, v};
    run_until(r, stat_equals, &w, key);
}

/* the plugin has subscribed everything it had at start */
static void wait_ws_ready(struct rig *r)
{
    wait_stat_eq(r, "active_subs", 3); /* notices + trades + book of 005930 */
}

/* --------------------------------------------------------------------- cases */

static void test_query_market(void **state)
{
    (void)state;
    static struct rig r; /* static: the teardown stops it after a failure */
    rig_start(&r, NULL);
    /* the REST price differs from the WebSocket's, to tell them apart */
    mock_post("/_mock/set", "{\\\"prices\\\": {\\\"005930\\\": 70000}}");
    g_nrec = 0;
    assert_int_equal(r.ops->query_market(r.self, "999999", 10), QTS_ENOENT);
    assert_int_equal(r.ops->query_market(r.self, "12", 10), QTS_EINVAL);
    assert_int_equal(r.ops->query_market(r.self, "005930", 11), 0);
    wait_done(&r, 11);
    long i_trade = -1, i_book = -1, i_done = -1;
    for (size_t i = 0; i < g_nrec; i++) {
        const struct rec *e = &g_rec[i];
        if (e->kind == R_TRADE && e->px == 70000 && i_trade < 0) {
            assert_int_equal(e->qty, 0); /* a reference price, not a print */
            assert_int_equal(e->instrument, 1);
            i_trade = (long)i;
        } else if (e->kind == R_BOOK && e->bid_px == 70000 && i_book < 0) {
            assert_int_equal(e->flags & QTS_BOOK_SNAPSHOT, QTS_BOOK_SNAPSHOT);
            assert_int_equal(e->n_bids, 10);
            assert_int_equal(e->n_asks, 10);
            assert_int_equal(e->px, 70100); /* best ask: one tick up */
            assert_int_equal(e->qty, 101);
            assert_int_equal(e->bid_qty, 201);
            i_book = (long)i;
        } else if (e->kind == R_DONE && e->req_id == 11) {
            assert_int_equal(e->status, 0);
            i_done = (long)i;
        }
    }
    assert_true(i_trade >= 0 && i_book > i_trade && i_done > i_book);
    assert_true(mock_stat("price_calls") >= 1);
    assert_true(mock_stat("asking_calls") >= 1);

    /* a KIS reject ends the query with its class, no price emitted */
    mock_post("/_mock/fail_next",
              "{\\\"path\\\": \\\"/uapi/domestic-stock/v1/quotations/inquire-price\\\", "
              "\\\"status\\\": 200, \\\"msg_cd\\\": \\\"OPSQ2002\\\"}");
    mock_post("/_mock/set", "{\\\"prices\\\": {\\\"005930\\\": 65000}}");
    size_t before = g_nrec;
    assert_int_equal(r.ops->query_market(r.self, "005930", 12), 0);
    wait_done(&r, 12);
    assert_int_equal(find_done(12)->status, QTS_EREJECT);
    for (size_t i = before; i < g_nrec; i++)
        assert_false(g_rec[i].kind == R_TRADE && g_rec[i].px == 65000);

    /* a rate-limit reply (HTTP 500, EGW00201) on the book: backed off, retried */
    mock_post("/_mock/fail_next", "{\\\"path\\\": \\\"/uapi/domestic-stock/v1/quotations/"
                                  "inquire-asking-price-exp-ccn\\\", \\\"status\\\": 500, "
                                  "\\\"msg_cd\\\": \\\"EGW00201\\\"}");
    long failures = mock_stat("injected_failures");
    assert_int_equal(r.ops->query_market(r.self, "005930", 13), 0);
    wait_done(&r, 13);
    assert_int_equal(find_done(13)->status, 0);
    assert_int_equal(mock_stat("injected_failures"), failures + 1);
    rig_stop(&r);
}

static void test_query_buying_power(void **state)
{
    (void)state;
    static struct rig r; /* static: the teardown stops it after a failure */
    rig_start(&r, NULL);
    mock_post("/_mock/set", "{\\\"prices\\\": {\\\"005930\\\": 70000}, \\\"cash\\\": 10000000}");
    g_nrec = 0;
    assert_int_equal(r.ops->query_buying_power(r.self, "005930", 70000, 21), 0);
    wait_done(&r, 21);
    const struct rec *bp = NULL;
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_BP && g_rec[i].req_id == 21)
            bp = &g_rec[i];
    assert_non_null(bp);
    assert_true(bp < find_done(21)); /* the answer, then the end */
    assert_int_equal(find_done(21)->status, 0);
    assert_int_equal(bp->bp.instrument, 1);
    assert_string_equal(bp->bp.symbol, "005930");
    assert_int_equal(bp->bp.cash_exp, 0);
    assert_int_equal(bp->bp.cash, 10000000);
    assert_int_equal(bp->bp.px, 70000);
    assert_int_equal(bp->bp.max_qty, 142); /* 10,000,000 / 70,000, no margin */
    assert_int_equal(mock_stat("last_psbl_unpr"), 70000);
    assert_int_equal(mock_stat("last_psbl_dvsn"), 0); /* limit */

    /* at market: KIS prices it at the day's upper limit (91,000 here) */
    assert_int_equal(r.ops->query_buying_power(r.self, "005930", 0, 22), 0);
    wait_done(&r, 22);
    bp = NULL;
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_BP && g_rec[i].req_id == 22)
            bp = &g_rec[i];
    assert_non_null(bp);
    assert_int_equal(bp->bp.px, 0);
    assert_int_equal(bp->bp.max_qty, 10000000 / 91000);
    assert_int_equal(mock_stat("last_psbl_unpr"), 0);
    assert_int_equal(mock_stat("last_psbl_dvsn"), 1); /* market */
    rig_stop(&r);
}

struct two_keys {
    const char *a, *b;
    bool present;
};

static bool keys_state(const void *arg)
{
    const struct two_keys *k = arg;
    return mock_active(k->a) == k->present && mock_active(k->b) == k->present;
}

static void wait_keys(struct rig *r, const char *a, const char *b, bool present)
{
    struct two_keys k = {a, b, present};
    run_until(r, keys_state, &k, present ? "subscription at the mock" : "unsubscription");
}

static void test_runtime_subscriptions(void **state)
{
    (void)state;
    static struct rig r; /* static: the teardown stops it after a failure */
    rig_start(&r, NULL);
    wait_ws_ready(&r);
    long subs0 = mock_stat("subscribes"), unsubs0 = mock_stat("unsubscribes");
    if (unsubs0 < 0)
        unsubs0 = 0;
    /* 3 of 5 used: one more symbol (2 subscriptions) fits, a second does not */
    assert_int_equal(r.ops->subscribe(r.self, "000660"), 0);
    wait_keys(&r, "H0STCNT0|000660", "H0STASP0|000660", true);
    assert_int_equal(mock_stat("subscribes"), subs0 + 2);
    assert_int_equal(r.ops->subscribe(r.self, "000660"), 0); /* already: nothing sent */
    assert_int_equal(r.ops->subscribe(r.self, "035720"), QTS_EFULL);
    assert_int_equal(r.ops->subscribe(r.self, "bad!"), QTS_EINVAL);
    /* trades of the new symbol reach the host */
    g_nrec = 0;
    int64_t deadline = qts_mono_ns() + INT64_C(30000000000);
    bool seen = false;
    while (!seen) {
        for (size_t i = 0; i < g_nrec && !seen; i++)
            seen = g_rec[i].kind == R_TRADE && g_rec[i].instrument == 2;
        if (qts_mono_ns() > deadline)
            fail_msg("no trade of 000660");
        uv_run(&r.loop, UV_RUN_ONCE);
    }
    assert_int_equal(r.ops->unsubscribe(r.self, "000660"), 0);
    wait_keys(&r, "H0STCNT0|000660", "H0STASP0|000660", false);
    assert_int_equal(mock_stat("unsubscribes"), unsubs0 + 2);
    assert_int_equal(r.ops->unsubscribe(r.self, "000660"), QTS_ENOENT);
    /* the freed room takes another symbol; a dropped session resubscribes it */
    assert_int_equal(r.ops->subscribe(r.self, "035720"), 0);
    wait_keys(&r, "H0STCNT0|035720", "H0STASP0|035720", true);
    long connects = mock_stat("ws_connects");
    mock_post("/_mock/drop_ws", "{}");
    wait_stat(&r, "ws_connects", connects + 1);
    wait_stat_eq(&r, "active_subs", 5);
    assert_true(mock_active("H0STCNT0|035720") && mock_active("H0STASP0|035720"));
    assert_false(mock_active("H0STCNT0|000660"));
    assert_int_equal(mock_stat("subs_refused"), -1); /* the mock's limit never hit */
    rig_stop(&r);
}

static bool exec_seen(const void *arg)
{
    const struct qts_exec_report *want = arg;
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_EXEC && g_rec[i].rep.exec_type == want->exec_type &&
            strcmp(g_rec[i].rep.client_order_id, want->client_order_id) == 0)
            return true;
    return false;
}

static const struct qts_exec_report *wait_exec(struct rig *r, uint8_t type, const char *clordid)
{
    struct qts_exec_report want;
    memset(&want, 0, sizeof want);
    want.exec_type = type;
    snprintf(want.client_order_id, sizeof want.client_order_id, "%s", clordid);
    run_until(r, exec_seen, &want, "execution report");
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_EXEC && g_rec[i].rep.exec_type == type &&
            strcmp(g_rec[i].rep.client_order_id, clordid) == 0)
            return &g_rec[i].rep;
    return NULL;
}

static void test_restart_keeps_order_map(void **state)
{
    (void)state;
    char statef[1100];
    snprintf(statef, sizeof statef, "%s/state/kis-orders.jsonl", g_dir);
    unlink(statef);
    static struct rig r; /* static: the teardown stops it after a failure */
    rig_start(&r, NULL);
    wait_ws_ready(&r);
    g_nrec = 0;
    struct qts_broker_order o;
    memset(&o, 0, sizeof o);
    o.struct_size = sizeof o;
    snprintf(o.client_order_id, sizeof o.client_order_id, "persist-1");
    snprintf(o.symbol, sizeof o.symbol, "005930");
    o.instrument = 1;
    o.side = QTS_SIDE_BUY;
    o.type = QTS_ORD_LIMIT;
    o.tif = QTS_TIF_DAY;
    o.px = 71000;
    o.qty = 10;
    assert_int_equal(r.ops->submit(r.self, &o), 0);
    const struct qts_exec_report *ack = wait_exec(&r, QTS_EXEC_ACK, "persist-1");
    char odno[QTS_VENUE_ID_MAX];
    snprintf(odno, sizeof odno, "%s", ack->venue_order_id);
    assert_true(strlen(odno) == 10);
    rig_stop(&r); /* instance destroyed */

    /* the map is on disk, owner-only; lines a crash or an editor broke are
     * skipped on the next start */
    struct stat sb;
    assert_int_equal(stat(statef, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    FILE *f = fopen(statef, "a");
    assert_non_null(f);
    fputs("{not json\n{\"v\":1,\"c\":\"x\"}\n\n", f);
    fclose(f);
    /* 4 of the 10 fill while no instance runs: that notice is lost */
    mock_post("/_mock/drop_ws", "{\\\"fill_open\\\": true, \\\"fill_qty\\\": 4}");

    g_nrec = 0;
    rig_start(&r, NULL);
    wait_ws_ready(&r);
    /* KIS does not replay notices: the order read back is looked up in
     * today's orders and the fill made meanwhile is booked */
    const struct qts_exec_report *fill = wait_exec(&r, QTS_EXEC_FILL, "persist-1");
    assert_int_equal(fill->last_qty, 4);
    assert_int_equal(fill->cum_qty, 4);
    assert_int_equal(fill->leaves_qty, 6);
    assert_string_equal(fill->venue_order_id, odno);
    /* reconciliation names the order by its client id */
    assert_int_equal(r.ops->query_open_orders(r.self, 31), 0);
    wait_done(&r, 31);
    assert_int_equal(find_done(31)->status, 0);
    const struct qts_exec_report *st = NULL;
    for (size_t i = 0; i < g_nrec; i++)
        if (g_rec[i].kind == R_EXEC && g_rec[i].rep.exec_type == QTS_EXEC_STATUS &&
            strcmp(g_rec[i].rep.venue_order_id, odno) == 0)
            st = &g_rec[i].rep;
    assert_non_null(st);
    assert_string_equal(st->client_order_id, "persist-1");
    assert_int_equal(st->cum_qty, 4);
    assert_int_equal(st->leaves_qty, 6);
    long orders = mock_stat("orders");
    /* the cancel of the order placed before the restart */
    assert_int_equal(r.ops->cancel(r.self, "persist-1", ""), 0);
    wait_exec(&r, QTS_EXEC_CANCELLED, "persist-1");
    assert_int_equal(mock_stat("cancels"), 1);
    assert_int_equal(mock_stat("last_rvse_orgn_odno"), strtol(odno, NULL, 10));
    assert_int_equal(mock_stat("last_rvse_orgno"), 6010);
    assert_int_equal(mock_stat("orders"), orders);
    /* this host's client ids restart with every run: an id of the earlier
     * run names a new order, which is sent */
    g_nrec = 0;
    assert_int_equal(r.ops->submit(r.self, &o), 0);
    ack = wait_exec(&r, QTS_EXEC_ACK, "persist-1");
    char odno2[QTS_VENUE_ID_MAX];
    snprintf(odno2, sizeof odno2, "%s", ack->venue_order_id);
    assert_string_not_equal(odno2, odno);
    assert_int_equal(mock_stat("orders"), orders + 1);
    rig_stop(&r);

    /* compacted on stop: the broken lines are gone, the order kept (today) */
    assert_int_equal(stat(statef, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    char buf[8192];
    f = fopen(statef, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_null(strstr(buf, "{not json"));
    char want[128];
    snprintf(want, sizeof want, "\"c\":\"persist-1\",\"o\":\"%s\"", odno2);
    assert_non_null(strstr(buf, want));
    snprintf(want, sizeof want, "\"o\":\"%s\"", odno);
    assert_null(strstr(buf, want)); /* the old order lost its client id */
}

/* The real server's TR ids (TTTC8908R; quotations unchanged) against a
 * mock in real mode, which refuses paper ids. */
static void test_real_server_ids(void **state)
{
    (void)state;
    stop_mock();
    start_mock("real");
    static struct rig r; /* static: the teardown stops it after a failure */
    rig_start(&r, NULL);
    wait_ws_ready(&r); /* H0STCNI0 accepted: the real notice TR */
    g_nrec = 0;
    assert_int_equal(r.ops->query_buying_power(r.self, "005930", 71900, 41), 0);
    assert_int_equal(r.ops->query_market(r.self, "005930", 42), 0);
    wait_done(&r, 41);
    wait_done(&r, 42);
    assert_int_equal(find_done(41)->status, 0);
    assert_int_equal(find_done(42)->status, 0);
    assert_int_equal(mock_stat("psbl_order_calls"), 1);
    assert_int_equal(mock_stat("http500"), 0); /* no TR id refused (EGW00213) */
    rig_stop(&r);
}

static int case_teardown(void **state)
{
    (void)state;
    if (g_live)
        rig_stop(g_live);
    return 0;
}

static int group_setup(void **state)
{
    (void)state;
    start_mock("vts");
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    stop_mock();
    return 0;
}

int main(void)
{
    if (!kis_mock_usable())
        return QTS_TEST_SKIP;
    g_dir = qts_test_tmpdir();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_query_market, case_teardown),
        cmocka_unit_test_teardown(test_query_buying_power, case_teardown),
        cmocka_unit_test_teardown(test_runtime_subscriptions, case_teardown),
        cmocka_unit_test_teardown(test_restart_keeps_order_map, case_teardown),
        cmocka_unit_test_teardown(test_real_server_ids, case_teardown),
    };
    int rc = cmocka_run_group_tests(tests, group_setup, group_teardown);
    stop_mock();
    qts_test_rmtree(g_dir);
    free(g_dir);
    return rc;
}
