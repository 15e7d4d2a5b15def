/* test_safety.c — the safety state machine, the code table, the live guard
 * and the kill path against the OMS with a scripted fake broker. */
#include "exec_fixture.h"

#include "safety.h"
#include "safety_codes.h"

static struct qts_clock clk;

static struct qts_safety *mk(void)
{
    qts_clock_init(&clk, QTS_CLOCK_VIRTUAL);
    qts_clock_advance_to(&clk, INT64_C(1000000000));
    return qts_safety_new(&clk);
}

static void test_codes_table(void **state)
{
    (void)state;
    /* every code is unique, its number matches its text, its family too */
    for (int i = 0; i < QTS_SC_COUNT; i++) {
        const struct qts_safety_code_info *a = qts_safety_code_info(i);
        assert_non_null(a);
        char want[8];
        snprintf(want, sizeof want, "%s%03d", qts_safety_family_name(a->family), a->number);
        assert_string_equal(a->str, want);
        assert_int_equal(qts_safety_code_find(a->str), i);
        for (int j = i + 1; j < QTS_SC_COUNT; j++)
            assert_string_not_equal(a->str, qts_safety_code_info(j)->str);
        if (a->family == QTS_SF_GR)
            assert_int_equal(a->effect, QTS_SE_LIMIT);
        if (a->family == QTS_SF_AN)
            assert_int_equal(a->effect, QTS_SE_WARN);
    }
    /* conflicts resolved (spec §9 #2, #3, #28) */
    assert_string_equal(qts_safety_code_info(QTS_SC_FS080)->meaning, "total capital <= 0");
    assert_int_equal(qts_safety_code_info(QTS_SC_FS061)->effect, QTS_SE_TRIP);
    assert_int_equal(qts_safety_code_info(QTS_SC_FS106)->effect, QTS_SE_NOTICE);
    assert_int_equal(qts_safety_code_info(QTS_SC_FS102)->effect, QTS_SE_NOTICE);
    assert_int_equal(qts_safety_code_info(QTS_SC_FS092)->effect, QTS_SE_NOTICE);
    assert_null(qts_safety_code_info(QTS_SC_COUNT));
    assert_int_equal(qts_safety_code_find("FS999"), -1);
}

static void test_docs_list_every_code(void **state)
{
    (void)state;
    FILE *f = fopen(qts_test_src_path("docs/safety.md"), "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    for (int i = 0; i < QTS_SC_COUNT; i++) {
        char row[16];
        snprintf(row, sizeof row, "| %s |", qts_safety_code_str(i));
        if (!strstr(text, row))
            fail_msg("docs/safety.md has no row for %s", qts_safety_code_str(i));
    }
}

static void test_normal_warning_fail_lockdown(void **state)
{
    (void)state;
    struct qts_safety *s = mk();
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_NORMAL);
    assert_true(qts_safety_trading_allowed(s));
    /* limits and notices never move the state */
    assert_int_equal(qts_safety_raise(s, QTS_SC_GR001, "x"), QTS_SAFETY_NORMAL);
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS102, "exit"), QTS_SAFETY_NORMAL);
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS092, "escape"), QTS_SAFETY_NORMAL);
    /* anomaly -> WARNING, still trading; cleared back to NORMAL */
    assert_int_equal(qts_safety_raise(s, QTS_SC_AN001, "jump"), QTS_SAFETY_WARNING);
    assert_true(qts_safety_trading_allowed(s));
    assert_int_equal(qts_safety_clear_warning(s), QTS_SAFETY_NORMAL);
    /* trip -> FAIL, trading stops */
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS040, "broker"), QTS_SAFETY_FAIL);
    assert_false(qts_safety_trading_allowed(s));
    /* a notice in FAIL does not count as a second fail-safe */
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS102, "exit"), QTS_SAFETY_FAIL);
    /* FAIL -> NORMAL needs no approval */
    assert_int_equal(qts_safety_recover(s, false, NULL, NULL, NULL), QTS_SAFETY_NORMAL);
    assert_int_equal(qts_safety_consecutive_fails(s), 0);
    /* two consecutive fail-safes -> LOCKDOWN */
    qts_safety_raise(s, QTS_SC_FS040, "1");
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS041, "2"), QTS_SAFETY_LOCKDOWN);
    assert_false(qts_safety_trading_allowed(s));
    qts_safety_free(s);
}

static void test_lockdown_needs_approval(void **state)
{
    (void)state;
    struct qts_safety *s = mk();
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS104, "vol kill"), QTS_SAFETY_LOCKDOWN);
    /* a fail-safe in LOCKDOWN stays in LOCKDOWN (spec §9 #27) ... */
    assert_int_equal(qts_safety_raise(s, QTS_SC_FS040, "more"), QTS_SAFETY_LOCKDOWN);
    /* ... so a plain recovery cannot bypass the operator */
    struct qts_err err;
    assert_int_equal(qts_safety_recover(s, false, "ops", "x", &err), QTS_EPERM);
    assert_int_equal(qts_safety_recover(s, true, "", "x", &err), QTS_EPERM);
    assert_int_equal(qts_safety_recover(s, true, "ops", "", &err), QTS_EPERM);
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_LOCKDOWN);
    assert_false(qts_safety_last_approval(s, NULL));
    /* anomalies and recover-from-warning paths do not leave it either */
    qts_safety_raise(s, QTS_SC_AN001, "x");
    assert_int_equal(qts_safety_clear_warning(s), QTS_SAFETY_LOCKDOWN);
    /* approved: recorded with who, why and when */
    qts_safety_set_kill(s, true, "ops", "k");
    assert_int_equal(qts_safety_recover(s, true, "alice", "vol normal again", &err),
                     QTS_SAFETY_NORMAL);
    struct qts_safety_approval a;
    assert_true(qts_safety_last_approval(s, &a));
    assert_string_equal(a.who, "alice");
    assert_string_equal(a.reason, "vol normal again");
    assert_int_equal(a.from, QTS_SAFETY_LOCKDOWN);
    assert_true(a.ts_ns > 0);
    assert_false(qts_safety_kill_on(s));
    assert_true(qts_safety_trading_allowed(s));
    char js[1024];
    qts_safety_status_json(s, js, sizeof js);
    assert_non_null(strstr(js, "\"who\":\"alice\""));
    assert_non_null(strstr(js, "\"state\":\"NORMAL\""));
    /* the log keeps every step */
    struct qts_safety_event ev[64];
    size_t n = qts_safety_events(s, ev, 64);
    assert_true(n >= 5);
    assert_string_equal(ev[n - 1].what, "recover");
    assert_int_equal(ev[n - 1].from, QTS_SAFETY_LOCKDOWN);
    qts_safety_free(s);
}

static int n_heard;
static void hear(void *ctx, const struct qts_safety_event *ev)
{
    (void)ctx;
    (void)ev;
    n_heard++;
}

static void test_kill_switch_and_listener(void **state)
{
    (void)state;
    struct qts_safety *s = mk();
    struct qts_safety_listener l = {.on_event = hear};
    qts_safety_set_listener(s, &l);
    n_heard = 0;
    qts_safety_set_kill(s, true, "bob", "test");
    assert_true(qts_safety_kill_on(s));
    assert_false(qts_safety_trading_allowed(s));
    assert_int_equal(qts_safety_state(s), QTS_SAFETY_NORMAL);
    qts_safety_set_kill(s, false, "bob", "done");
    assert_true(qts_safety_trading_allowed(s));
    qts_safety_set_trading_enabled(s, false);
    assert_false(qts_safety_trading_allowed(s));
    assert_int_equal(n_heard, 2);
    assert_int_equal(qts_safety_raise(s, 100000, "bad"), QTS_EINVAL);
    qts_safety_free(s);
}

static void test_live_guard(void **state)
{
    (void)state;
    char why[512];
    /* paper with a simulated broker: fine, no ack needed */
    assert_int_equal(
        qts_safety_live_guard("paper", QTS_BROKER_ENV_SIMULATED, NULL, why, sizeof why), 0);
    assert_int_equal(qts_safety_live_guard("paper", QTS_BROKER_ENV_PAPER, NULL, why, sizeof why),
                     0);
    /* live needs all three */
    assert_int_equal(
        qts_safety_live_guard("live", QTS_BROKER_ENV_REAL, QTS_LIVE_ACK_VALUE, why, sizeof why), 0);
    unsigned m = qts_safety_live_guard("live", QTS_BROKER_ENV_REAL, NULL, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_ACK);
    assert_non_null(strstr(why, "QTS_LIVE_ACK=I_UNDERSTAND_LIVE_TRADING"));
    m = qts_safety_live_guard("live", QTS_BROKER_ENV_REAL, "yes", why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_ACK);
    m = qts_safety_live_guard("live", QTS_BROKER_ENV_PAPER, QTS_LIVE_ACK_VALUE, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_BROKER);
    assert_non_null(strstr(why, "needs a broker on its real environment"));
    /* the engine asks before any plugin connects, -1 without a broker */
    m = qts_safety_live_guard("live", -1, QTS_LIVE_ACK_VALUE, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_BROKER);
    assert_int_equal(qts_safety_live_guard("replay", -1, NULL, why, sizeof why), 0);
    m = qts_safety_live_guard("live", QTS_BROKER_ENV_SIMULATED, NULL, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_BROKER | QTS_LIVE_MISSING_ACK);
    /* a real broker under a non-live mode is refused too */
    m = qts_safety_live_guard("paper", QTS_BROKER_ENV_REAL, QTS_LIVE_ACK_VALUE, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_MODE);
    assert_non_null(strstr(why, "trades real money; it needs mode: live (mode is 'paper')"));
    m = qts_safety_live_guard(NULL, QTS_BROKER_ENV_REAL, NULL, why, sizeof why);
    assert_int_equal(m, QTS_LIVE_MISSING_MODE | QTS_LIVE_MISSING_ACK);
}

/* The kill path: working orders at a scripted broker, kill pulled, every
 * working child gets a cancel before the call returns, new orders are
 * rejected with GR101 until an approved resume. */
static void test_kill_exec_cancels_everything(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    fx_start(f);
    struct qts_safety *s = mk();
    /* a minimal hook standing in for precheck_risk: the kill switch */
    uint64_t ids[40];
    for (int i = 0; i < 40; i++) {
        struct qts_order_intent in =
            fx_intent(1 + (uint32_t)(i % 3), 1, i % 2 ? QTS_SIDE_BUY : QTS_SIDE_SELL, QTS_ORD_LIMIT,
                      60000, 10);
        ids[i] = fx_submit(f, &in);
    }
    /* ack them all: working at the venue */
    for (int i = 0; i < f->n_calls; i++)
        if (f->calls[i].op == 's')
            fx_report(f, QTS_EXEC_ACK, f->calls[i].clordid, 0, 0, 0, 0);
    assert_int_equal(qts_oms_working_children(qts_exec_oms(f->x)), 40);
    assert_true(qts_exec_has_working_orders(f->x));
    size_t n = qts_safety_kill_exec(s, f->x, false, "ops", "test kill");
    assert_int_equal(n, 40);
    assert_true(qts_safety_kill_on(s));
    assert_int_equal(fx_count(f, 'c'), 40);
    /* the venue confirms: nothing works any more */
    for (int i = 0; i < f->n_calls; i++)
        if (f->calls[i].op == 'c')
            fx_report(f, QTS_EXEC_CANCELLED, f->calls[i].clordid, 0, 0, 0, 0);
    assert_int_equal(qts_oms_working_children(qts_exec_oms(f->x)), 0);
    assert_false(qts_exec_has_working_orders(f->x));
    for (int i = 0; i < 40; i++)
        assert_true(qts_exec_state_final(fx_order(f, ids[i])->state));
    qts_safety_free(s);
    fx_free(f);
}

static void test_orderly_stop_cancel_or_keep(void **state)
{
    (void)state;
    struct qts_safety_cfg cfg;
    qts_safety_cfg_default(&cfg);
    assert_true(cfg.cancel_on_stop);
    struct fx *f = fx_new();
    fx_start(f);
    for (int i = 0; i < 3; i++) {
        struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60000, 10);
        fx_submit(f, &in);
    }
    cfg.cancel_on_stop = false;
    assert_int_equal(qts_safety_stop_orders(f->x, &cfg), 0);
    assert_int_equal(fx_count(f, 'c'), 0);
    assert_true(qts_exec_has_working_orders(f->x));
    cfg.cancel_on_stop = true;
    assert_int_equal(qts_safety_stop_orders(f->x, &cfg), 3);
    assert_int_equal(fx_count(f, 'c'), 3);
    fx_free(f);
}

static void test_kill_file(void **state)
{
    (void)state;
    char *dir = qts_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, QTS_KILL_FILE_NAME);
    struct qts_safety *s = mk();
    assert_int_equal(qts_safety_kill_file_poll(s, path), 0); /* absent */
    qts_test_write_file(path, "off\n");
    assert_int_equal(qts_safety_kill_file_poll(s, path), 0);
    assert_false(qts_safety_kill_on(s));
    qts_test_write_file(path, "  Active\n");
    assert_int_equal(qts_safety_kill_file_poll(s, path), 1);
    assert_true(qts_safety_kill_on(s));
    assert_int_equal(qts_safety_kill_file_poll(s, path), 0); /* already on */
    remove(path); /* removing the file does not release it */
    assert_true(qts_safety_kill_on(s));
    qts_safety_recover(s, true, "ops", "file handled", NULL);
    assert_false(qts_safety_kill_on(s));
    qts_test_write_file(path, "");
    assert_int_equal(qts_safety_kill_file_poll(s, path), 1); /* empty file = on */
    qts_safety_free(s);
    qts_test_rmtree(dir);
    free(dir);
}

QTS_TEST_MAIN(test_codes_table, test_docs_list_every_code, test_normal_warning_fail_lockdown,
              test_lockdown_needs_approval, test_kill_switch_and_listener, test_live_guard,
              test_kill_exec_cancels_everything, test_orderly_stop_cancel_or_keep, test_kill_file)
