/* test_exec_paper.c — end to end: the micro-pipeline drives the real
 * broker_paper plugin (loaded with dlopen) on a virtual clock. The plugin's
 * host services are a small table written here that routes its execution
 * reports, positions and query answers into the pipeline, exactly as the
 * host's plugin manager does. Skipped when broker_paper.so is not built. */
#include "exec_fixture.h"

#include <dlfcn.h>

#include "log.h"
#include "qts/qts_plugin.h"
#include "test_host_api.h"

static struct fx *g_fx; /* the pipeline and its clock, per test */
static void *g_dl;
static const struct qts_plugin_desc *g_desc;
static void *g_self;

static void h_log(void *o, int level, const char *fmt, ...)
{
    (void)o;
    va_list ap;
    va_start(ap, fmt);
    qts_logv(level, fmt, ap);
    va_end(ap);
}
static int64_t h_now(void *o)
{
    (void)o;
    return qts_clock_now(&g_fx->clock);
}
static int h_timer_start(void *o, uint64_t timeout_ms, uint64_t repeat_ms, qts_timer_fn cb,
                         void *arg, uint64_t *id)
{
    (void)o;
    if (repeat_ms)
        return QTS_EUNSUPPORTED;
    return qts_timer_svc_start(&g_fx->timers, (int64_t)timeout_ms * FX_MS, cb, arg, id);
}
static int h_timer_stop(void *o, uint64_t id)
{
    (void)o;
    return qts_timer_svc_stop(&g_fx->timers, id);
}
/* no configuration: the plugin runs on its defaults */
QTS_TEST_HOST_CFG_GETTERS(h, qts_test_cfg_no_key)
static const struct qts_instrument *h_inst_find(void *o, const char *sym)
{
    (void)o;
    for (size_t i = 0; i < QTS_ARRAY_LEN(g_fx->inst); i++)
        if (g_fx->inst[i].struct_size && strcmp(g_fx->inst[i].symbol, sym) == 0)
            return &g_fx->inst[i];
    return NULL;
}
static int h_emit_exec(void *o, const struct qts_exec_report *r)
{
    (void)o;
    int rc = qts_exec_on_report(g_fx->x, r);
    return rc == QTS_ENOENT ? 0 : rc;
}
static int h_emit_pos(void *o, const struct qts_broker_position *p)
{
    (void)o;
    qts_exec_on_position(g_fx->x, p);
    return 0;
}
static int h_query_done(void *o, uint64_t req, int st)
{
    (void)o;
    qts_exec_on_query_done(g_fx->x, req, st);
    return 0;
}

static const struct qts_host_api HOST = QTS_TEST_BROKER_HOST_API(h);

static int setup(void **state)
{
    struct fx *f = fx_new();
    g_fx = f;
    const struct qts_broker_ops *ops = g_desc->ops;
    struct qts_err err = {0};
    if (g_desc->init(&HOST, f, &g_self, &err) != 0) {
        fprintf(stderr, "broker_paper init failed: %s\n", err.msg);
        fx_free(f);
        return -1;
    }
    g_desc->start(g_self, &err);
    f->port.ops = ops;
    f->port.self = g_self;
    fx_start(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    qts_exec_free(f->x);
    f->x = NULL;
    while (g_desc->stop(g_self) == QTS_EAGAIN)
        qts_fake_timers_advance(&f->timers, 10 * FX_MS);
    g_desc->destroy(g_self);
    fx_free(f);
    g_fx = NULL;
    return 0;
}

/* Top of book into the venue, time-stamped with the virtual clock. */
static void quote(struct fx *f, int64_t bid, int64_t ask, int64_t qty)
{
    struct qts_quote q;
    memset(&q, 0, sizeof q);
    q.h.struct_size = sizeof q;
    q.h.type = QTS_EV_QUOTE;
    q.h.instrument = 1;
    q.h.ts_exch_ns = q.h.ts_recv_ns = qts_clock_now(&f->clock);
    q.bid_px = bid;
    q.ask_px = ask;
    q.bid_qty = q.ask_qty = qty;
    const struct qts_broker_ops *ops = g_desc->ops;
    ops->on_market(g_self, &q.h);
    f->ref.bid = bid;
    f->ref.ask = ask;
    f->ref.last = bid;
    f->ref.ts_ns = q.h.ts_exch_ns;
}

static void test_market_buy_completes(void **state)
{
    struct fx *f = *state;
    quote(f, 60000, 60100, 1000);
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_MARKET, 0, 10);
    uint64_t id = fx_submit(f, &in);
    fx_advance_ms(f, 50);
    quote(f, 60000, 60100, 1000);
    fx_advance_ms(f, 50);
    const struct qts_parent *p = fx_order(f, id);
    assert_int_equal(p->state, QTS_XS_COMPLETE);
    assert_int_equal(p->filled_qty, 10);
    assert_int_equal(qts_parent_avg_px(p), 60100);
    int64_t filled = 0;
    for (int i = 0; i < f->n_fills; i++)
        filled += f->fills[i].qty;
    assert_int_equal(filled, 10);
    assert_int_equal(qts_oms_position(qts_exec_oms(f->x), 1), 10);
    /* reconciliation agrees with the venue: no difference */
    assert_int_equal(qts_exec_reconcile(f->x), 0);
    fx_advance_ms(f, 10);
    assert_false(qts_oms_recon_active(qts_exec_oms(f->x)));
    assert_int_equal(f->n_diffs, 0);
}

static void test_resting_limit_escape_and_flatten(void **state)
{
    struct fx *f = *state;
    /* only 10 offered: a buy of 15 at the ask fills 10 and rests 5 */
    quote(f, 60000, 60100, 10);
    struct qts_order_intent in = fx_intent(1, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 60100, 15);
    uint64_t id = fx_submit(f, &in);
    fx_advance_ms(f, 20);
    const struct qts_parent *p = fx_order(f, id);
    assert_int_equal(p->state, QTS_XS_MONITORING);
    assert_int_equal(p->filled_qty, 10);
    /* escape: cancel the resting 5, then sell the 10 bought */
    assert_int_equal(qts_exec_escape(f->x, id, "test escape"), 0);
    quote(f, 60000, 60200, 1000);
    for (int i = 0; i < 10 && p->state != QTS_XS_ESCAPED; i++) {
        fx_advance_ms(f, 10);
        quote(f, 60000, 60200, 1000);
    }
    assert_int_equal(p->state, QTS_XS_ESCAPED);
    assert_true(p->success);
    assert_int_equal(p->flatten_filled, 10);
    assert_int_equal(fx_last_ev(f)->kind, QTS_OE_ESCAPED);
    assert_int_equal(qts_oms_position(qts_exec_oms(f->x), 1), 0);
    assert_int_equal(f->fills[f->n_fills - 1].side, QTS_SIDE_SELL);
}

static void test_cancel_strategy_at_venue(void **state)
{
    struct fx *f = *state;
    quote(f, 60000, 60100, 1000);
    struct qts_order_intent in = fx_intent(5, 1, QTS_SIDE_BUY, QTS_ORD_LIMIT, 59500, 3);
    uint64_t a = fx_submit(f, &in), b = fx_submit(f, &in);
    fx_advance_ms(f, 20);
    assert_int_equal(qts_exec_cancel_strategy(f->x, 5, "strategy removed"), 2);
    fx_advance_ms(f, 20);
    quote(f, 60000, 60100, 1000);
    fx_advance_ms(f, 20);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_last_ev(f)->kind, QTS_OE_CANCELLED);
}

int main(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/broker_paper.so", qts_test_plugin_dir());
    g_dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!g_dl) {
        printf("skipped: %s absent (%s)\n", path, dlerror());
        return QTS_TEST_SKIP;
    }
    qts_plugin_entry_fn entry = (qts_plugin_entry_fn)dlsym(g_dl, QTS_PLUGIN_ENTRY_SYMBOL);
    g_desc = entry ? entry(QTS_ABI_MAJOR, QTS_ABI_MINOR) : NULL;
    if (!g_desc || g_desc->kind != QTS_KIND_BROKER ||
        strcmp(g_desc->build_sig, QTS_BUILD_SIG) != 0) {
        fprintf(stderr, "broker_paper.so: not a matching broker plugin\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_market_buy_completes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resting_limit_escape_and_flatten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_strategy_at_venue, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (!getenv("QTS_NO_DLCLOSE"))
        dlclose(g_dl);
    return rc;
}
