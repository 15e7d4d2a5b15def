/* test_exec_escape_algo.c — the micro-pipeline on a fake clock with a
 * scripted broker (exec_pipeline_fixture.h), its later stages and seams:
 * EmergencyEscape from every state, strategy cancels, OrderSplit schedules
 * (TWAP, VWAP, iceberg), polling and synchronous brokers, the uv loop,
 * reconciliation, venue rejects, a late fill after an escape, replays
 * that must match and the parameters. */
#include "exec_pipeline_fixture.h"

#include <uv.h>

/* ------------------------------------------------------- EmergencyEscape */

static void test_escape_flattens_long_and_short(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    for (int side = BUY; side <= SELL; side++) {
        int s0 = fx_count(f, 's');
        struct qts_order_intent in = fx_intent(1, 1, (uint8_t)side, LMT, 60000, 10);
        uint64_t id = fx_submit(f, &in);
        const char *cid = clordid_of_submit(f, s0);
        char cl[QTS_CLORDID_MAX];
        qts_strlcpy(cl, cid, sizeof cl);
        fx_report(f, QTS_EXEC_ACK, cl, 0, 0, 0, 0);
        fx_report(f, QTS_EXEC_FILL, cl, 6, 60000, 1, 6);
        assert_int_equal(qts_exec_escape(f->x, id, "risk: MAE"), 0);
        const struct qts_parent *p = fx_order(f, id);
        assert_int_equal(p->state, QTS_XS_ESCAPING);
        /* first the cancel; the flatten waits for it */
        assert_int_equal(fx_count(f, 's'), s0 + 1);
        fx_report(f, QTS_EXEC_FILL, cl, 1, 60000, 2, 7); /* fill racing the cancel */
        fx_report(f, QTS_EXEC_CANCELLED, cl, 0, 0, 0, 0);
        assert_int_equal(fx_count(f, 's'), s0 + 2);
        const struct fb_call *fl = &f->calls[fx_call(f, 's', s0 + 1)];
        assert_int_equal(fl->o.side, side == BUY ? SELL : BUY); /* side-correct */
        assert_int_equal(fl->o.type, MKT);
        assert_int_equal(fl->o.qty, 7);
        fx_report(f, QTS_EXEC_FILL, fl->clordid, 7, 59900, 1, 7);
        assert_int_equal(p->state, QTS_XS_ESCAPED);
        assert_true(p->success);
        assert_int_equal(p->flatten_filled, 7);
        const struct qts_order_event *ev = fx_last_ev(f);
        assert_int_equal(ev->kind, QTS_OE_ESCAPED);
        assert_int_equal(ev->code, 92);
        assert_string_equal(ev->reason, "risk: MAE");
        assert_int_equal(f->fills[f->n_fills - 1].side, side == BUY ? SELL : BUY);
    }
    assert_int_equal(qts_oms_position(qts_exec_oms(f->x), 1), 0);
}

static void test_escape_flatten_rejected(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_FILL, "t1-1", 10, 60000, 1, 10);
    assert_int_equal(fx_order(f, id)->state, QTS_XS_COMPLETE);
    assert_int_equal(qts_exec_escape(f->x, id, "late"), QTS_ESTATE); /* final */
    struct qts_order_intent in2 = fx_intent(1, 1, BUY, LMT, 60000, 10);
    id = fx_submit(f, &in2);
    fx_report(f, QTS_EXEC_FILL, "t1-2", 3, 60000, 1, 3);
    qts_exec_escape(f->x, id, "manual");
    fx_report(f, QTS_EXEC_CANCELLED, "t1-2", 0, 0, 0, 0);
    /* every flatten attempt rejected: a new order (new id) each time */
    for (int i = 0; i < 3; i++) {
        int s = fx_call(f, 's', 2 + i);
        assert_true(s >= 0);
        struct qts_exec_report r = {.struct_size = sizeof r,
                                    .exec_type = QTS_EXEC_REJECT,
                                    .code = QTS_EREJECT,
                                    .leaves_qty = -1};
        qts_strlcpy(r.client_order_id, f->calls[s].clordid, sizeof r.client_order_id);
        qts_exec_on_report(f->x, &r);
    }
    const struct qts_parent *p = fx_order(f, id);
    assert_int_equal(fx_count(f, 's'), 5);
    assert_int_equal(p->state, QTS_XS_ESCAPED);
    assert_false(p->success);
    assert_true(fx_has_safety(f, "GR074"));
    assert_non_null(strstr(p->reason, "residual 3"));
}

static void test_escape_from_every_state(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    /* SENDING */
    uint64_t a = fx_submit(f, &in);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_SENDING);
    assert_int_equal(qts_exec_escape(f->x, a, "e"), 0);
    fx_report(f, QTS_EXEC_CANCELLED, "t1-1", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_ESCAPED);
    /* MONITORING */
    uint64_t b = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-2", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_MONITORING);
    qts_exec_escape(f->x, b, "e");
    fx_report(f, QTS_EXEC_CANCELLED, "t1-2", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_ESCAPED);
    /* ADJUSTING (modify not yet confirmed) */
    f->ref.ask = 61000;
    uint64_t c = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-3", 0, 0, 0, 0);
    fx_advance_ms(f, 60000);
    assert_int_equal(fx_order(f, c)->state, QTS_XS_ADJUSTING);
    qts_exec_escape(f->x, c, "e");
    assert_int_equal(fx_order(f, c)->state, QTS_XS_ESCAPING);
    fx_report(f, QTS_EXEC_CANCELLED, "t1-3", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, c)->state, QTS_XS_ESCAPED);
    /* CANCELLING */
    uint64_t d = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-4", 0, 0, 0, 0);
    qts_exec_cancel(f->x, d, NULL);
    assert_int_equal(fx_order(f, d)->state, QTS_XS_CANCELLING);
    qts_exec_escape(f->x, d, "e");
    assert_int_equal(fx_order(f, d)->state, QTS_XS_ESCAPING);
    /* ESCAPING: a second escape is accepted and changes nothing */
    int cancels = fx_count(f, 'c');
    assert_int_equal(qts_exec_escape(f->x, d, "again"), 0);
    assert_int_equal(fx_count(f, 'c'), cancels);
    /* escape timeout: never silent; finishes ESCAPED with success=false */
    fx_advance_ms(f, 30000);
    assert_int_equal(fx_order(f, d)->state, QTS_XS_ESCAPED);
    assert_false(fx_order(f, d)->success);
    /* final states: refused */
    assert_int_equal(qts_exec_escape(f->x, d, "e"), QTS_ESTATE);
    assert_int_equal(qts_exec_escape(f->x, 999, "e"), QTS_ENOENT);
    /* TWAP with slices still scheduled: nothing more goes out after escape */
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 5;
    in.algo_duration_ns = 10000 * FX_MS;
    int sends = fx_count(f, 's');
    uint64_t e = fx_submit(f, &in);
    assert_int_equal(fx_count(f, 's'), sends + 1);
    qts_exec_escape(f->x, e, "e");
    fx_advance_ms(f, 20000);
    assert_int_equal(fx_count(f, 's'), sends + 1);
    /* escape_all reaches every working order */
    in.algo = QTS_ALGO_DIRECT;
    fx_submit(f, &in);
    fx_submit(f, &in);
    assert_int_equal(qts_exec_escape_all(f->x, "kill switch"), 3);
}

static void test_cancel_strategy(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent a = fx_intent(1, 1, BUY, LMT, 60000, 10);
    struct qts_order_intent b = fx_intent(2, 1, BUY, LMT, 60000, 10);
    uint64_t a1 = fx_submit(f, &a), b1 = fx_submit(f, &b), a2 = fx_submit(f, &a);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_FILL, "t1-1", 3, 60000, 1, 3);
    assert_int_equal(qts_exec_cancel_strategy(f->x, 1, "strategy halted"), 2);
    assert_int_equal(fx_count(f, 'c'), 2);
    fx_report(f, QTS_EXEC_CANCELLED, "t1-1", 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_CANCELLED, "t1-3", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, a1)->state, QTS_XS_COMPLETE);
    assert_true(fx_order(f, a1)->partial);
    assert_int_equal(fx_order(f, a1)->filled_qty, 3); /* kept, not flattened */
    assert_int_equal(fx_order(f, a2)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_order(f, b1)->state, QTS_XS_SENDING);
    assert_int_equal(fx_last_ev(f)->kind, QTS_OE_CANCELLED);
    assert_string_equal(fx_last_ev(f)->reason, "strategy halted");
    assert_int_equal(fx_count(f, 's'), 3);
    assert_int_equal(qts_exec_cancel_strategy(f->x, 1, NULL), 0);
    /* a strategy can only cancel its own orders */
    assert_int_equal(qts_exec_cancel_by(f->x, 1, b1, NULL), QTS_EPERM);
    assert_int_equal(qts_exec_cancel_by(f->x, 1, 12345, NULL), QTS_ENOENT);
    assert_int_equal(qts_exec_cancel_by(f->x, 2, a1, NULL), QTS_EPERM);
    /* an unanswered cancel does not end silently: it escalates to escape */
    qts_exec_cancel(f->x, b1, NULL);
    fx_advance_ms(f, 30000);
    assert_int_equal(fx_order(f, b1)->state, QTS_XS_ESCAPING);
}

/* ------------------------------------------------------------ algorithms */

static void test_twap_schedule(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 50);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 5;
    in.algo_duration_ns = 10000 * FX_MS;
    int64_t t0 = qts_clock_now(&f->clock);
    uint64_t id = fx_submit(f, &in);
    assert_int_equal(fx_count(f, 's'), 1);
    for (int i = 1; i < 5; i++) {
        fx_advance_ms(f, 1999);
        assert_int_equal(fx_count(f, 's'), i);
        fx_advance_ms(f, 1);
        assert_int_equal(fx_count(f, 's'), i + 1);
    }
    for (int i = 0; i < 5; i++) {
        const struct fb_call *c = &f->calls[fx_call(f, 's', i)];
        assert_int_equal(c->o.qty, 10);
        assert_int_equal(c->o.ts_sent_ns - t0, i * 2000 * FX_MS);
        char cl[QTS_CLORDID_MAX];
        qts_strlcpy(cl, c->clordid, sizeof cl);
        fx_report(f, QTS_EXEC_FILL, cl, 10, 60000, 1, 10);
    }
    assert_int_equal(fx_order(f, id)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_order(f, id)->n_children, 5);
}

static void test_vwap_from_bars(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    int64_t vols[] = {100, 300, 600};
    for (int i = 0; i < 3; i++)
        f->bars[i].volume = vols[i];
    f->n_bars = 3;
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 100);
    in.algo = QTS_ALGO_VWAP;
    in.algo_duration_ns = 3000 * FX_MS;
    fx_submit(f, &in);
    fx_advance_ms(f, 3000);
    assert_int_equal(fx_count(f, 's'), 3);
    assert_int_equal(f->calls[fx_call(f, 's', 0)].o.qty, 10);
    assert_int_equal(f->calls[fx_call(f, 's', 1)].o.qty, 30);
    assert_int_equal(f->calls[fx_call(f, 's', 2)].o.qty, 60);
    /* a configured profile wins over bars */
    double prof[] = {1, 1};
    struct qts_exec_params *pp = (struct qts_exec_params *)qts_exec_params(f->x);
    pp->vwap_profile = prof;
    pp->n_vwap_profile = 2;
    fx_submit(f, &in);
    fx_advance_ms(f, 3000);
    assert_int_equal(fx_count(f, 's'), 5);
    assert_int_equal(f->calls[fx_call(f, 's', 3)].o.qty, 50);
}

static void test_iceberg_refill(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, SELL, LMT, 60000, 25);
    in.algo = QTS_ALGO_ICEBERG;
    in.algo_display_qty = 10;
    uint64_t id = fx_submit(f, &in);
    assert_int_equal(fx_count(f, 's'), 1);
    assert_int_equal(f->calls[0].o.qty, 10);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_FILL, "t1-1", 4, 60000, 1, 4);
    assert_int_equal(fx_count(f, 's'), 1); /* only shown part fills */
    fx_report(f, QTS_EXEC_FILL, "t1-1", 6, 60000, 2, 10);
    assert_int_equal(fx_count(f, 's'), 2); /* refilled */
    assert_int_equal(f->calls[fx_call(f, 's', 1)].o.qty, 10);
    fx_report(f, QTS_EXEC_FILL, "t1-2", 10, 60000, 1, 10);
    assert_int_equal(f->calls[fx_call(f, 's', 2)].o.qty, 5);
    fx_report(f, QTS_EXEC_FILL, "t1-3", 5, 60000, 1, 5);
    assert_int_equal(fx_order(f, id)->state, QTS_XS_COMPLETE);
}

static void test_split_cap_gr060(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 100);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 50;
    in.algo_duration_ns = 1000 * FX_MS;
    uint64_t id = fx_submit(f, &in);
    assert_true(fx_has_safety(f, "GR060"));
    assert_int_equal(fx_order(f, id)->n_slices, 10);
}

/* --------------------------------------------------------- other seams */

static void test_polling_broker(void **state)
{
    struct fx *f = *state;
    f->port.cannot_push = true;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    int q0 = fx_count(f, 'q');
    fx_advance_ms(f, 100);
    assert_int_equal(fx_count(f, 'q'), q0 + 1);
    /* the poll answer carries the fill */
    struct qts_exec_report st = {.struct_size = sizeof st,
                                 .exec_type = QTS_EXEC_STATUS,
                                 .instrument = 1,
                                 .cum_qty = 10,
                                 .last_px = 60000,
                                 .leaves_qty = 0};
    qts_strlcpy(st.client_order_id, "t1-1", sizeof st.client_order_id);
    qts_exec_on_report(f->x, &st);
    qts_exec_on_query_done(f->x, f->req_orders, 0);
    qts_exec_on_query_done(f->x, f->req_positions, 0);
    assert_int_equal(fx_order(f, id)->state, QTS_XS_COMPLETE);
    fx_advance_ms(f, 1000);
    assert_int_equal(fx_count(f, 'q'), q0 + 1); /* polling stops when done */
}

static void test_reconcile_on_demand_and_summary(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    /* after a reconnect: the order is gone at the broker */
    assert_int_equal(qts_exec_reconcile(f->x), 0);
    assert_int_equal(qts_exec_reconcile(f->x), QTS_EBUSY);
    struct qts_broker_position bp = {.struct_size = sizeof bp, .instrument = 1, .qty = 0};
    qts_exec_on_position(f->x, &bp);
    qts_exec_on_query_done(f->x, f->req_orders, 0);
    qts_exec_on_query_done(f->x, f->req_positions, 0);
    assert_int_equal(f->n_diffs, 1);
    assert_int_equal(f->diffs[0].kind, QTS_RECON_MISSING_ORDER);
    /* expired at the venue with nothing filled: FAILED */
    assert_int_equal(fx_order(f, id)->state, QTS_XS_FAILED);
    char buf[4096];
    int n = qts_exec_summary_json(f->x, buf, sizeof buf);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    assert_non_null(strstr(buf, "\"submitted\":1"));
    assert_non_null(strstr(buf, "\"failed\":1"));
    assert_non_null(strstr(buf, "\"precheck\":{\"n\":1"));
    assert_non_null(strstr(buf, "\"fill\":{"));
    /* truncation is safe */
    char small[16];
    assert_int_equal(qts_exec_summary_json(f->x, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);
}

/* The same pipeline on a real libuv loop: a broker that never answers, tiny
 * timeouts; the order must end FAILED after its attempts, with every timer
 * closed. Only outcomes are asserted, never durations. */
static void test_on_uv_loop(void **state)
{
    struct fx *f = *state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct qts_timer_svc uvt;
    assert_int_equal(qts_uv_timers_new(&loop, NULL, &uvt), 0);
    f->params.ack_timeout_ms = 1;
    f->params.send_backoff_ms = 1;
    f->params.send_timeout_ms = 500; /* room for 3 attempts on a loaded machine */
    f->params.escape_timeout_ms = 5;
    f->ops.query_open_orders = NULL;
    f->ops.query_positions = NULL;
    struct qts_exec_env env = {
        .port = f->port,
        .timers = &uvt,
        .prov = {.instrument = fx_instrument, .market = fx_market, .ctx = f},
        .sink = {.on_order = fx_on_order,
                 .on_fill = fx_on_fill,
                 .on_safety = fx_on_safety,
                 .ctx = f},
    };
    struct qts_exec *x = qts_exec_new(&f->params, &env);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    uint64_t id;
    assert_int_equal(qts_exec_submit(x, &in, &id, NULL), 0);
    while (!qts_exec_state_final(qts_exec_order(x, id)->state))
        uv_run(&loop, UV_RUN_ONCE);
    /* 3 attempts, then cancelled; the send stage rolled back; no answer to
     * the cancel either, so the rollback timed out: FAILED, unconfirmed */
    assert_int_equal(fx_count(f, 's'), 3);
    assert_true(fx_has_safety(f, "FS090"));
    const struct qts_parent *p = qts_exec_order(x, id);
    assert_int_equal(p->state, QTS_XS_FAILED);
    assert_false(p->success);
    assert_non_null(strstr(p->reason, "send timeout; escape timeout"));
    qts_exec_free(x);
    qts_timer_svc_free(&uvt);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_synchronous_broker(void **state)
{
    struct fx *f = *state;
    f->sync_fill = true;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, SELL, LMT, 60000, 30);
    uint64_t a = fx_submit(f, &in);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_COMPLETE);
    in.algo = QTS_ALGO_ICEBERG;
    in.algo_display_qty = 10;
    uint64_t b = fx_submit(f, &in);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_order(f, b)->n_children, 3);
    assert_int_equal(fx_order(f, b)->filled_qty, 30);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 3;
    in.algo_duration_ns = 3000 * FX_MS;
    uint64_t c = fx_submit(f, &in);
    fx_advance_ms(f, 3000);
    assert_int_equal(fx_order(f, c)->state, QTS_XS_COMPLETE);
    assert_int_equal(fx_count(f, 's'), 7);
    assert_int_equal(qts_fake_timers_pending(&f->timers), 0);
    int complete = 0;
    for (int i = 0; i < f->n_ev; i++)
        complete += f->ev[i].kind == QTS_OE_COMPLETE;
    assert_int_equal(complete, 3);
}

static void test_venue_reject_routing(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 30);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 3;
    in.algo_duration_ns = 3000 * FX_MS;
    /* insufficient balance on slice 2: slice 3 is never sent, fills kept */
    uint64_t a = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_FILL, "t1-1", 10, 60000, 1, 10);
    fx_advance_ms(f, 1000);
    struct qts_exec_report r = {
        .struct_size = sizeof r, .exec_type = QTS_EXEC_REJECT, .code = QTS_ERISK, .leaves_qty = -1};
    qts_strlcpy(r.client_order_id, "t1-2", sizeof r.client_order_id);
    qts_exec_on_report(f->x, &r);
    assert_true(fx_has_safety(f, "GR061"));
    fx_advance_ms(f, 5000);
    assert_int_equal(fx_count(f, 's'), 2);
    assert_int_equal(fx_order(f, a)->state, QTS_XS_COMPLETE);
    assert_true(fx_order(f, a)->partial);
    /* unknown symbol at the venue: the whole order stops (FS091) */
    uint64_t b = fx_submit(f, &in);
    fx_advance_ms(f, 1000);
    int s0 = fx_count(f, 's');
    r.code = QTS_ENOENT;
    qts_strlcpy(r.client_order_id, clordid_of_submit(f, s0 - 1), sizeof r.client_order_id);
    qts_exec_on_report(f->x, &r);
    assert_true(fx_has_safety(f, "FS091"));
    fx_report(f, QTS_EXEC_CANCELLED, clordid_of_submit(f, s0 - 2), 0, 0, 0, 0);
    fx_advance_ms(f, 5000);
    assert_int_equal(fx_count(f, 's'), s0);
    assert_int_equal(fx_order(f, b)->state, QTS_XS_FAILED);
    /* a transient refusal (rate limit) skips just that slice */
    uint64_t c = fx_submit(f, &in);
    int s1 = fx_count(f, 's');
    r.code = QTS_ERATELIMIT;
    qts_strlcpy(r.client_order_id, clordid_of_submit(f, s1 - 1), sizeof r.client_order_id);
    qts_exec_on_report(f->x, &r);
    fx_advance_ms(f, 1000);
    assert_int_equal(fx_count(f, 's'), s1 + 1);
    assert_int_equal(fx_order(f, c)->state, QTS_XS_SENDING);
}

/* Issue #20: an algo order whose slices the venue refuses ends REJECTED
 * with the venue's reason at once: no further slice, no send timeout, no
 * FS090 (which would trip the safety state). */
static void test_algo_venue_reject(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    static const uint8_t algos[] = {QTS_ALGO_TWAP, QTS_ALGO_VWAP, QTS_ALGO_ICEBERG};
    for (size_t k = 0; k < sizeof algos; k++) {
        struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 30);
        in.algo = algos[k];
        in.algo_slices = 3;
        in.algo_duration_ns = 3000 * FX_MS;
        in.algo_display_qty = 10;
        int s0 = fx_count(f, 's');
        uint64_t id = fx_submit(f, &in);
        assert_int_equal(fx_count(f, 's'), s0 + 1); /* the first slice only */
        struct qts_exec_report r = {.struct_size = sizeof r,
                                    .exec_type = QTS_EXEC_REJECT,
                                    .code = QTS_EREJECT,
                                    .leaves_qty = -1};
        qts_strlcpy(r.text, "price outside the price band", sizeof r.text);
        qts_strlcpy(r.client_order_id, clordid_of_submit(f, s0), sizeof r.client_order_id);
        assert_int_equal(qts_exec_on_report(f->x, &r), 0);
        const struct qts_parent *p = fx_order(f, id);
        assert_int_equal(p->state, QTS_XS_FAILED);
        const struct qts_order_event *ev = fx_last_ev(f);
        assert_int_equal(ev->order_id, id);
        assert_int_equal(ev->kind, QTS_OE_REJECTED);
        assert_int_equal(ev->code, QTS_EREJECT);
        assert_string_equal(ev->reason, "rejected by the venue: price outside the price band");
        fx_advance_ms(f, 20000); /* past send_timeout_ms and every slice's time */
        assert_int_equal(fx_count(f, 's'), s0 + 1);
        assert_int_equal(fx_order(f, id)->state, QTS_XS_FAILED);
    }
    assert_false(fx_has_safety(f, "FS090"));
    assert_int_equal(qts_fake_timers_pending(&f->timers), 0);

    /* refused after a fill: the working slice is cancelled, the fill kept,
     * the parent COMPLETE partial with the venue's reason */
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 30);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 3;
    in.algo_duration_ns = 3000 * FX_MS;
    int s0 = fx_count(f, 's');
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, clordid_of_submit(f, s0), 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_FILL, clordid_of_submit(f, s0), 4, 60000, 1, 4);
    fx_advance_ms(f, 1000);
    assert_int_equal(fx_count(f, 's'), s0 + 2);
    struct qts_exec_report r = {.struct_size = sizeof r,
                                .exec_type = QTS_EXEC_REJECT,
                                .code = QTS_EREJECT,
                                .leaves_qty = -1};
    qts_strlcpy(r.text, "quantity above the maximum", sizeof r.text);
    qts_strlcpy(r.client_order_id, clordid_of_submit(f, s0 + 1), sizeof r.client_order_id);
    qts_exec_on_report(f->x, &r);
    assert_int_equal(fx_count(f, 'c'), 1); /* the first slice's rest */
    fx_report(f, QTS_EXEC_CANCELLED, clordid_of_submit(f, s0), 0, 0, 0, 0);
    const struct qts_parent *p = fx_order(f, id);
    assert_int_equal(p->state, QTS_XS_COMPLETE);
    assert_true(p->partial);
    assert_int_equal(p->filled_qty, 4);
    assert_string_equal(p->reason,
                        "rejected by the venue: quantity above the maximum: partial fill");
    fx_advance_ms(f, 20000);
    assert_int_equal(fx_count(f, 's'), s0 + 2);
    assert_false(fx_has_safety(f, "FS090"));
}

/* One scripted session; everything it produces is recorded in `f`. */
static void replay_session(struct fx *f)
{
    fx_start(f);
    struct qts_order_intent in = fx_intent(3, 1, BUY, LMT, 60000, 40);
    in.algo = QTS_ALGO_TWAP;
    in.algo_slices = 4;
    in.algo_duration_ns = 4000 * FX_MS;
    fx_submit(f, &in);
    for (int i = 0; i < 4; i++) {
        char cl[QTS_CLORDID_MAX];
        qts_strlcpy(cl, clordid_of_submit(f, i), sizeof cl);
        fx_report(f, QTS_EXEC_ACK, cl, 0, 0, 0, 0);
        fx_report(f, QTS_EXEC_FILL, cl, 5, 60000 - 100 * i, 1, 5);
        fx_advance_ms(f, 1000);
    }
    struct qts_order_intent s2 = fx_intent(3, 1, SELL, LMT, 60100, 7);
    uint64_t id = fx_submit(f, &s2);
    fx_report(f, QTS_EXEC_FILL, clordid_of_submit(f, 4), 3, 60100, 1, 3);
    qts_exec_escape(f->x, id, "replay");
    fx_report(f, QTS_EXEC_CANCELLED, clordid_of_submit(f, 4), 0, 0, 0, 0);
    fx_report(f, QTS_EXEC_FILL, clordid_of_submit(f, 5), 3, 60000, 1, 3);
    fx_advance_ms(f, 70000);
}

static void test_replay_identical(void **state)
{
    (void)state;
    struct fx *a = fx_new(), *b = fx_new();
    replay_session(a);
    replay_session(b);
    assert_true(a->n_calls > 6);
    assert_int_equal(a->n_calls, b->n_calls);
    assert_memory_equal(a->calls, b->calls, (size_t)a->n_calls * sizeof a->calls[0]);
    assert_int_equal(a->n_ev, b->n_ev);
    assert_memory_equal(a->ev, b->ev, (size_t)a->n_ev * sizeof a->ev[0]);
    assert_int_equal(a->n_fills, b->n_fills);
    assert_memory_equal(a->fills, b->fills, (size_t)a->n_fills * sizeof a->fills[0]);
    assert_string_equal(a->calls[0].clordid, "t1-1");
    fx_free(a);
    fx_free(b);
}

static void test_params(void **state)
{
    (void)state;
    struct qts_exec_params p;
    qts_exec_params_default(&p);
    /* the spec's defaults, in one place */
    assert_int_equal(p.max_children, 10);
    assert_int_equal(p.adjust_max_rounds, 3);
    assert_int_equal(p.adjust_interval_ms, 1000);
    assert_true(p.adjust_step_pct == 0.001);
    assert_true(p.max_slippage_pct == 0.005);
    assert_int_equal(p.monitor_timeout_ms, 60000);
    assert_int_equal(p.send_timeout_ms, 10000);
    assert_int_equal(p.send_max_attempts, 3);
    assert_int_equal(p.send_backoff_ms, 100);
    assert_int_equal(p.escape_timeout_ms, 30000);
    struct qts_err err;
    assert_int_equal(qts_exec_params_validate(&p, &err), 0);
    p.max_children = 0;
    assert_int_equal(qts_exec_params_validate(&p, &err), QTS_ECONFIG);
    assert_non_null(strstr(err.msg, "exec.max_children"));
    qts_exec_params_default(&p);
    p.max_slippage_pct = -0.1;
    assert_int_equal(qts_exec_params_validate(&p, &err), QTS_ECONFIG);
    qts_exec_params_default(&p);
    qts_strlcpy(p.host_id, "a-b", sizeof p.host_id);
    assert_int_equal(qts_exec_params_validate(&p, &err), QTS_ECONFIG);
}

static void test_late_fill_after_escape(void **state)
{
    struct fx *f = *state;
    fx_start(f);
    struct qts_order_intent in = fx_intent(1, 1, BUY, LMT, 60000, 10);
    uint64_t id = fx_submit(f, &in);
    fx_report(f, QTS_EXEC_ACK, "t1-1", 0, 0, 0, 0);
    qts_exec_escape(f->x, id, "e");
    fx_report(f, QTS_EXEC_CANCELLED, "t1-1", 0, 0, 0, 0);
    assert_int_equal(fx_order(f, id)->state, QTS_XS_ESCAPED);
    int n_safety = f->n_safety, n_fills = f->n_fills;
    /* a fill that happened before the cancel but is reported after it */
    fx_report(f, QTS_EXEC_FILL, "t1-1", 2, 60000, 1, 2);
    assert_int_equal(f->n_fills, n_fills + 1); /* delivered: the position is real */
    assert_int_equal(f->n_safety, n_safety + 1);
    assert_string_equal(f->safety[n_safety], "FS092");
    assert_int_equal(qts_oms_position(qts_exec_oms(f->x), 1), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_escape_flattens_long_and_short),
        FX_TEST(test_escape_flatten_rejected),
        FX_TEST(test_escape_from_every_state),
        FX_TEST(test_cancel_strategy),
        FX_TEST(test_twap_schedule),
        FX_TEST(test_vwap_from_bars),
        FX_TEST(test_iceberg_refill),
        FX_TEST(test_split_cap_gr060),
        FX_TEST(test_polling_broker),
        FX_TEST(test_reconcile_on_demand_and_summary),
        FX_TEST(test_late_fill_after_escape),
        FX_TEST(test_on_uv_loop),
        FX_TEST(test_synchronous_broker),
        FX_TEST(test_venue_reject_routing),
        FX_TEST(test_algo_venue_reject),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_replay_identical),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
