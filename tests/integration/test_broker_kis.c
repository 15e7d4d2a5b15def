/* test_broker_kis.c — broker_kis end to end against the local KIS mock
 * (tests/fixtures/kis_mock.py: REST and WebSocket on loopback).
 *
 * A Lua strategy in `paper` mode sees trades from the KIS WebSocket, places
 * a limit buy of 10 that the mock accepts and fills 4 of (an encrypted
 * H0STCNI9 notice), cancels the rest (confirmation notice), sells the 4 at
 * market (full fill notice) and finally places a one-share "marker" order
 * that the mock refuses (APBK0952, buying power). The marker tells the test,
 * through the mock, that the strategy has seen everything; the test then stops the engine and checks the ledger, the
 * position, the token cache and what the mock counted. Bounded in time by
 * a deadline, never by sleeps that assume speed. */
#include "engine_test.h"
#include "kis_mock_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "log.h"
#include "portfolio.h"
#include "util.h"

static const char strategy_lua[] =
    "local M = {}\n"
    "function M.on_init(ctx, params) return { phase = 0 } end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  -- orders go out right after a trade: the reference price is fresh\n"
    "  if st.phase == 0 then\n"
    "    st.buy = assert(ctx:buy('005930', 10, 71900))\n"
    "    st.phase = 1\n"
    "  elseif st.phase == 3 then\n"
    "    assert(ctx:order{ symbol = '005930', side = 'sell', qty = 4, type = 'market' })\n"
    "    st.phase = 4\n"
    "  elseif st.phase == 5 then\n"
    "    assert(ctx:buy('005930', 1, 71800))\n"
    "    st.phase = 6\n"
    "  end\n"
    "end\n"
    "function M.on_fill(ctx, st, f)\n"
    "  if st.phase == 1 then st.phase = 2; assert(ctx:cancel(st.buy))\n"
    "  elseif st.phase == 4 and ctx:position('005930') == 0 then st.phase = 5 end\n"
    "end\n"
    "function M.on_order(ctx, st, o)\n"
    "  -- the partly filled buy ends cancelled or complete with 4 of 10\n"
    "  if st.phase == 2 and (o:kind() == 'cancelled' or o:kind() == 'complete') then st.phase = 3 "
    "end\n"
    "end\n"
    "return M\n";

/* The restart: a buy whose reply is slow (the OMS reconciles meanwhile),
 * filled 4 by a notice and 6 while the WebSocket is down; the marker once
 * all 10 are booked. */
static const char restart_lua[] =
    "local M = {}\n"
    "function M.on_init(ctx, params) return { n = 0, phase = 0 } end\n"
    "function M.on_trade(ctx, st, t)\n"
    "  st.n = st.n + 1\n"
    "  if st.phase == 0 then\n"
    "    assert(ctx:buy('005930', 10, 71900))\n"
    "    st.phase = 1\n"
    "  elseif st.phase == 2 then\n"
    "    assert(ctx:buy('005930', 1, 71800))\n"
    "    st.phase = 3\n"
    "  end\n"
    "end\n"
    "function M.on_fill(ctx, st, f)\n"
    "  -- 4 from a notice, the other 6 from the catch-up after the reconnect\n"
    "  if st.phase == 1 and ctx:position('005930') >= 10 then st.phase = 2 end\n"
    "end\n"
    "return M\n";

static char *g_dir;
static FILE *g_mock;
static int g_rest, g_ws, g_pid;

static bool file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void start_mock(const char *extra)
{
    char args[1600];
    snprintf(args, sizeof args, "--extra-daily 40 %s", extra);
    g_mock = kis_mock_start("vts", g_dir, args, &g_rest, &g_ws, &g_pid);
}

static void stop_mock(void) { kis_mock_stop(&g_mock, &g_pid); }

/* "key": value from the mock's stats.json */
static long mock_stat(const char *key) { return kis_mock_stat(g_dir, key); }

static void write_config_mode(const char *name, const char *mode, const char *env, const char *lua,
                              const char *broker_extra);

static void write_config(const char *name, const char *lua, const char *broker_extra)
{
    write_config_mode(name, "paper", "vts", lua, broker_extra);
}

static void write_config_mode(const char *name, const char *mode, const char *env, const char *lua,
                              const char *broker_extra)
{
    qts_test_write_in(g_dir, "kis_trader.lua", lua);
    char body[4096];
    snprintf(body, sizeof body,
             /* the mock sends prices only now and then, and drops its
              * WebSocket on purpose: no stale-price trips in this test */
             "risk: {stale_ms: 600000, stale_trip_ms: 600000}\n" QTS_TEST_YAML_KRX_005930
             "broker:\n"
             "  plugin: broker_kis\n"
             "  config:\n"
             "    env: %s\n"
             "    rest_url: \"http://127.0.0.1:%d\"\n"
             "    ws_url: \"ws://127.0.0.1:%d/tryitout\"\n"
             "    token_cache: \"%s/kis-token.json\"\n"
             "    state_file: \"%s/kis-orders.jsonl\"\n"
             "    enforce_sessions: false\n"
             "    rate_per_s: 10\n"
             "    trades: \"005930\"\n"
             "    books: \"005930\"\n"
             "    ws_reconnect_min_ms: 50\n"
             "    token_min_interval_s: 1\n"
             "%s"
             "account: {initial_cash: \"10000000\"}\n",
             env, g_rest, g_ws, g_dir, g_dir, broker_extra);
    const struct qts_test_engine_yaml y = {
        .mode = mode,
        .host_id = "test-kis",
        .log_level = getenv("KIS_TEST_DEBUG") ? "debug" : "warn",
        .body = body,
        .strategies = "    - {name: kis_trader, file: kis_trader.lua, symbols: [\"005930\"]}\n",
    };
    qts_test_write_engine_yaml(g_dir, name, &y);
}

/* POST a control request to the mock (its test hooks). */
static void mock_post(const char *path, const char *json) { kis_mock_post(g_rest, path, json); }

struct watch {
    struct qts_engine *e;
    char marker[1100];
    long drop_at_fills; /* drop the WebSocket once the mock sent this many fill notices */
    volatile int done;  /* 1 marker seen, 2 deadline passed */
    pthread_t thr;
};

/* Stops the engine when the marker appears or after 60 s. */
static void *watch_main(void *arg)
{
    struct watch *w = arg;
    for (int i = 0; i < 1200; i++) {
        if (w->drop_at_fills && mock_stat("fills_sent") >= w->drop_at_fills) {
            w->drop_at_fills = 0;
            mock_post("/_mock/drop_ws", "{\\\"hold_s\\\": 0.3, \\\"fill_open\\\": true}");
        }
        if (file_exists(w->marker)) {
            w->done = 1;
            qts_engine_request_stop(w->e);
            return NULL;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    w->done = 2;
    qts_engine_request_stop(w->e);
    return NULL;
}

static struct qts_engine *new_engine(const char *cfg_name, struct qts_config **cfg_out,
                                     struct qts_err *err, int *rc_out)
{
    char path[1100], run_dir[1100];
    snprintf(path, sizeof path, "%s/%s", g_dir, cfg_name);
    snprintf(run_dir, sizeof run_dir, "%s/run", g_dir);
    struct qts_engine *e = NULL;
    *rc_out = qts_test_engine_new(path, run_dir, cfg_out, &e, err);
    return e;
}

static void test_order_fill_cancel_end_to_end(void **state)
{
    (void)state;
    start_mock("--fill-qty 4 --duplicate-notice --marker-qty 1");
    write_config("kis.yaml", strategy_lua, "    hashkey: true\n");
    struct qts_config *cfg = NULL;
    struct qts_err err;
    int rc;
    struct qts_engine *e = new_engine("kis.yaml", &cfg, &err, &rc);
    assert_int_equal(rc, 0);

    struct watch w = {.e = e};
    snprintf(w.marker, sizeof w.marker, "%s/marker", g_dir);
    assert_int_equal(pthread_create(&w.thr, NULL, watch_main, &w), 0);
    rc = qts_engine_run(e, &err);
    pthread_join(w.thr, NULL);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(w.done, 1); /* the strategy got through every step */

    /* the ledger: buy 4 (partial fill of 10), sell 4 at market; the
     * duplicated fill notice was applied once */
    const struct qts_portfolio *pf = qts_engine_portfolio(e);
    struct qts_test_fill_row *led = NULL;
    char run_dir[1100];
    snprintf(run_dir, sizeof run_dir, "%s/run", g_dir);
    size_t n = qts_test_read_fills(run_dir, 0, &led);
    assert_int_equal(n, 2);
    assert_int_equal(led[0].side, QTS_SIDE_BUY);
    assert_int_equal(led[0].qty, 4);
    assert_int_equal(led[0].pos_after, 4);
    assert_int_equal(led[1].side, QTS_SIDE_SELL);
    assert_int_equal(led[1].qty, 4);
    assert_int_equal(led[1].pos_after, 0);
    free(led);
    const struct qts_position *p = qts_portfolio_position(pf, 0);
    assert_non_null(p);
    assert_int_equal(p->qty, 0);
    struct qts_engine_stats st;
    qts_engine_get_stats(e, &st);
    assert_true(st.trades > 0); /* H0STCNT0 frames reached the engine */
    assert_true(st.books > 0);  /* H0STASP0 too */
    assert_int_equal(st.fills, 2);
    qts_engine_free(e);
    qts_config_unref(cfg);

    /* what the mock saw: one token for the whole run, three orders, one
     * cancel, notices over the WebSocket, pongs to its PINGPONG */
    assert_int_equal(mock_stat("token_issues"), 1);
    assert_int_equal(mock_stat("orders"), 2);  /* accepted: the buy and the sell */
    assert_int_equal(mock_stat("rejects"), 1); /* the marker */
    assert_int_equal(mock_stat("cancels"), 1);
    assert_true(mock_stat("notices") >= 6);
    assert_true(mock_stat("approvals") >= 1);
    /* hashkey on: each POST (buy, cancel, sell, marker) carried a valid one */
    assert_int_equal(mock_stat("hashkeys"), 4);
    assert_int_equal(mock_stat("hashed_posts"), 4);

    /* the token cache is owner-only */
    char tok[1100];
    snprintf(tok, sizeof tok, "%s/kis-token.json", g_dir);
    struct stat sb;
    assert_int_equal(stat(tok, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* restart: the cached token is reused (no issue) until the mock says
     * it expired (EGW00123, HTTP 500 with a JSON body); then exactly one
     * new issue and the request goes through. The first order's reply is
     * slow, so the OMS reconciles meanwhile: the paper server's open-order
     * inquiry walks the daily list over several pages. The WebSocket is
     * dropped after the first fill and the rest fills while it is down; the
     * plugin reconnects, subscribes again and finds the fill by inquiry. */
    unlink(w.marker);
    mock_post("/_mock/expire_token", "{}");
    /* one token a minute: the first refresh is refused (EGW00133, HTTP
     * 403) as if issued a moment ago; the plugin waits out its interval */
    mock_post("/_mock/set", "{\\\"delay_next_order\\\": 3.5, \\\"fill_qty\\\": 4, "
                            "\\\"refuse_tokens\\\": 1}");
    /* the reconciliation meets a rate-limit reply and a transient gateway
     * error, both HTTP 500 with a JSON body: backed off and retried */
    mock_post("/_mock/fail_next",
              "{\\\"path\\\": \\\"/uapi/domestic-stock/v1/trading/inquire-daily-ccld\\\", "
              "\\\"status\\\": 500, \\\"msg_cd\\\": \\\"EGW00201\\\"}");
    mock_post("/_mock/fail_next",
              "{\\\"path\\\": \\\"/uapi/domestic-stock/v1/trading/inquire-balance\\\", "
              "\\\"status\\\": 500, \\\"msg_cd\\\": \\\"EGW00002\\\"}");
    long subs_before = mock_stat("subscribes"), connects_before = mock_stat("ws_connects");
    write_config("kis2.yaml", restart_lua, "");
    e = new_engine("kis2.yaml", &cfg, &err, &rc);
    assert_int_equal(rc, 0);
    struct watch w2 = {.e = e, .drop_at_fills = mock_stat("fills_sent") + 1};
    snprintf(w2.marker, sizeof w2.marker, "%s/marker", g_dir);
    assert_int_equal(pthread_create(&w2.thr, NULL, watch_main, &w2), 0);
    rc = qts_engine_run(e, &err);
    pthread_join(w2.thr, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(w2.done, 1);
    qts_engine_get_stats(e, &st);
    /* the slow buy was acknowledged; 4 filled by notice, 6 by the catch-up */
    assert_int_equal(st.fills, 2);
    assert_int_equal(qts_engine_working_orders(e), 0);
    qts_engine_free(e);
    qts_config_unref(cfg);
    assert_int_equal(mock_stat("expired_replies"), 1);
    assert_int_equal(mock_stat("lost_fills"), 1);
    assert_int_equal(mock_stat("token_issues"), 2);
    assert_int_equal(mock_stat("token_refused"), 1);
    assert_true(mock_stat("ws_connects") >= connects_before + 2);
    assert_true(mock_stat("subscribes") >= subs_before + 6);
    assert_true(mock_stat("pages") >= 4); /* 3 daily pages (40 rows / 15) + balance */
    assert_int_equal(mock_stat("injected_failures"), 2);
    /* PINGPONG every 0.3 s during a run of several seconds: answered */
    assert_true(mock_stat("pongs") >= 1);
    stop_mock();
}

/* The live guard refuses mismatches before any plugin connects. */
static void test_live_guard(void **state)
{
    (void)state;
    static const struct {
        const char *mode, *env, *ack, *msg;
    } cases[] = {
        {"paper", "real", NULL, "trades real money"},
        {"live", "vts", "I_UNDERSTAND_LIVE_TRADING", "needs a broker on its real"},
        {"live", "real", NULL, "QTS_LIVE_ACK"},
        {"live", "real", "yes", "QTS_LIVE_ACK"},
    };
    g_rest = 9;
    g_ws = 9; /* nothing listens there: a connection attempt would fail */
    for (size_t i = 0; i < QTS_ARRAY_LEN(cases); i++) {
        if (cases[i].ack)
            setenv("QTS_LIVE_ACK", cases[i].ack, 1);
        else
            unsetenv("QTS_LIVE_ACK");
        write_config_mode("guard.yaml", cases[i].mode, cases[i].env, strategy_lua, "");
        struct qts_config *cfg = NULL;
        struct qts_err err;
        int rc;
        struct qts_engine *e = new_engine("guard.yaml", &cfg, &err, &rc);
        assert_null(e);
        assert_int_equal(rc, QTS_EPERM);
        if (!strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: %s", i, err.msg);
        qts_config_unref(cfg);
    }
    unsetenv("QTS_LIVE_ACK");
}

/* The orderly stop (docs/safety.md): three limit buys rest at the mock
 * unfilled; SIGTERM reaches the host; it cancels them and keeps running
 * until the mock has confirmed each cancel, then stops: exit status 0 and
 * stop.json saying all were cancelled.
 *
 * It runs after test_order_fill_cancel_end_to_end on the same state file,
 * and the mock it restarts numbers its orders from 1001 again (as a reset
 * paper server does): the restored records of the earlier run hold the
 * numbers the new orders and their cancels get. The cancel confirmations
 * must reach the new orders, not the stale records (issue #20). */
static const char resting_lua[] = "local M = {}\n"
                                  "function M.on_init(ctx, params) return { n = 0 } end\n"
                                  "function M.on_trade(ctx, st, t)\n"
                                  "  while st.n < 3 do\n"
                                  "    assert(ctx:buy('005930', 5, 71000 - 100 * st.n))\n"
                                  "    st.n = st.n + 1\n"
                                  "  end\n"
                                  "end\n"
                                  "return M\n";

struct signaller {
    struct qts_engine *e;
    volatile int sent; /* 1 SIGTERM sent with 3 orders working, 2 deadline */
    pthread_t thr;
};

static void *signal_main(void *arg)
{
    struct signaller *g = arg;
    for (int i = 0; i < 1200; i++) {
        if (mock_stat("orders") >= 3 && qts_engine_working_orders(g->e) == 3) {
            struct timespec ts = {0, 200 * 1000000L}; /* the receipt notices too */
            nanosleep(&ts, NULL);
            g->sent = 1;
            kill(getpid(), SIGTERM); /* as `kill <pid>` would */
            return NULL;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    g->sent = 2;
    qts_engine_request_stop(g->e);
    return NULL;
}

/* The orderly stop against a fresh mock; `mock_set` (borrowed JSON for
 * /_mock/set, NULL for none) changes how the mock behaves. */
static void run_sigterm_stop(const char *mock_set)
{
    stop_mock();
    start_mock("--fill-qty 0 --rate 20"); /* the cancels go out together */
    if (mock_set)
        mock_post("/_mock/set", mock_set);
    write_config("kis-stop.yaml", resting_lua, "");
    struct qts_config *cfg = NULL;
    struct qts_err err;
    int rc;
    struct qts_engine *e = new_engine("kis-stop.yaml", &cfg, &err, &rc);
    assert_int_equal(rc, 0);
    struct signaller g = {.e = e};
    assert_int_equal(pthread_create(&g.thr, NULL, signal_main, &g), 0);
    rc = qts_engine_run(e, &err);
    pthread_join(g.thr, NULL);
    if (rc != 0)
        fprintf(stderr, "run: %s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(g.sent, 1);
    assert_int_equal(qts_engine_working_orders(e), 0);
    assert_int_equal(qts_engine_exit_status(e), 0);
    qts_engine_free(e);
    qts_config_unref(cfg);
    assert_int_equal(mock_stat("orders"), 3);
    assert_int_equal(mock_stat("cancels"), 3); /* each reached the broker */

    char path[1100];
    snprintf(path, sizeof path, "%s/run/stop.json", g_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char doc[4096] = "";
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    if (!strstr(doc, "\"all_cancelled\":true") || !strstr(doc, "\"working_at_stop\":3") ||
        !strstr(doc, "\"signal\":\"SIGTERM\"") || !strstr(doc, "\"orders\":[]"))
        fail_msg("stop.json: %s", doc);
}

static void test_sigterm_cancels_working_orders(void **state)
{
    (void)state;
    run_sigterm_stop(NULL);
}

/* Two of the three cancel confirmations are lost on the WebSocket: the
 * plugin finds those cancels in today's orders, and the stop still ends
 * with all three cancelled within safety.stop_timeout_ms. */
static void test_sigterm_cancel_notice_lost(void **state)
{
    (void)state;
    run_sigterm_stop("{\\\"drop_cancel_notices\\\": 2}");
    assert_int_equal(mock_stat("cancel_notices_dropped"), 2);
}

int main(void)
{
    if (!kis_mock_usable())
        return QTS_TEST_SKIP;
    g_dir = qts_test_tmpdir();
    qts_log_set_level(getenv("KIS_TEST_DEBUG") ? QTS_LOG_DEBUG : QTS_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_live_guard),
        cmocka_unit_test(test_order_fill_cancel_end_to_end),
        cmocka_unit_test(test_sigterm_cancels_working_orders),
        cmocka_unit_test(test_sigterm_cancel_notice_lost),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    stop_mock();
    qts_test_rmtree(g_dir);
    free(g_dir);
    return rc;
}
