/* engine_decide.c — the Decide stage and the capital pools on the engine:
 * the runtime's intents of one drain go through qts_decide_run before the
 * pipeline (docs/decide.md); the engine supplies prices, instruments, each
 * strategy's scope (its risk limits' pool) and the bus. */
#include "engine_int.h"

static int d_scope(void *ctx, uint32_t strategy_id)
{
    struct qts_engine *e = ctx;
    if (!e->risk)
        return e->set->risk.pool;
    const struct qts_risk_limit_set *set =
        qts_precheck_risk_limits(qts_risk_control_precheck(e->risk));
    return qts_risk_limits_for(set, strategy_id)->pool;
}

static int64_t d_decision_px(void *ctx, uint32_t instrument)
{
    struct qts_mkt_ref m;
    if (qts__engine_market(ctx, instrument, &m) != 0)
        return 0;
    if (m.bid > 0 && m.ask > 0 && m.ask >= m.bid)
        return m.bid + (m.ask - m.bid) / 2; /* the mid, half a tick down when odd */
    return m.last;
}

static int64_t d_spread(void *ctx, uint32_t instrument)
{
    struct qts_mkt_ref m;
    if (qts__engine_market(ctx, instrument, &m) != 0 || m.bid <= 0 || m.ask < m.bid)
        return 0;
    return m.ask - m.bid;
}

static void d_fill(void *ctx, const struct qts_fill *f)
{
    struct qts_engine *e = ctx;
    struct qts_fill copy = *f;
    copy.h.seq = ++e->seq;
    e->stats.fills++;
    qts_bus_fill(&e->bus, &copy);
}

static void d_order(void *ctx, const struct qts_order_event *ev)
{
    struct qts_engine *e = ctx;
    struct qts_order_event copy = *ev;
    copy.h.seq = ++e->seq;
    qts_bus_order(&e->bus, &copy);
}

static void d_decision(void *ctx, const struct qts_decision *d)
{
    struct qts_engine *e = ctx;
    qts_bus_decision(&e->bus, d);
}

static void d_safety(void *ctx, int code, const char *msg)
{
    struct qts_engine *e = ctx;
    struct qts_safety_change c = {.code = code, .msg = msg};
    qts_bus_safety(&e->bus, &c);
}

static int64_t d_now(void *ctx)
{
    struct qts_engine *e = ctx;
    return qts_clock_now(&e->clock);
}

static void d_state_changed(void *ctx, int op_state)
{
    struct qts_engine *e = ctx;
    if (e->rt)
        qts_lua_runtime_set_operating_state(e->rt, op_state);
}

/* Each pool's working entry orders, at their limit (a market order at the
 * decision price): what they may still cost. O(working orders). */
static void d_reserved(void *ctx, int64_t out[QTS_POOL_COUNT])
{
    struct qts_engine *e = ctx;
    for (struct qts_parent *p = qts_oms_active_first(qts_exec_oms(e->exec)); p;
         p = qts_oms_active_next(p)) {
        int64_t open = p->intent.qty - p->filled_qty;
        int pool = d_scope(e, p->intent.strategy_id);
        if (open <= 0 || pool < 0 || pool >= QTS_POOL_COUNT ||
            !qts_pools_is_entry(e->pools, p->intent.strategy_id, p->intent.instrument,
                                p->intent.side))
            continue;
        int64_t px = p->intent.px > 0 ? p->intent.px : d_decision_px(e, p->intent.instrument);
        out[pool] += qts_cash_notional(px, p->inst.px_exp, open, p->inst.qty_exp);
    }
}

/* The runtime's submit_batch: one drain's intents. */
void qts__engine_decide_batch(void *ctx, const struct qts_order_intent *const *in, size_t n,
                              int *rc)
{
    struct qts_engine *e = ctx;
    /* confidence net of the predicted cost, before Decide's thresholds */
    in = qts_feedback_pub_confidence(&e->fb_pub, in, n);
    if (!e->decide) { /* before the stage exists: one by one, as asked */
        for (size_t i = 0; i < n; i++)
            rc[i] = qts__engine_rt_submit(e, in[i]);
        return;
    }
    qts_decide_run(e->decide, in, n, rc);
}

/* The runtime's cycle records (M.cycle_ms) to cycles.csv. */
void qts__engine_cycle(void *ctx, const struct qts_lua_cycle *c, int64_t decide_ns)
{
    struct qts_engine *e = ctx;
    if (!e->cycles)
        return;
    struct qts_cycle_rec r = {.strategy_id = c->strategy_id,
                              .strategy = c->strategy,
                              .cycle = c->cycle,
                              .due_ns = c->due_ns,
                              .ts_ns = c->ts_ns,
                              .cycle_ns = c->cycle_ns,
                              .budget_ns = c->budget_ns,
                              .snapshot_ns = c->snapshot_ns,
                              .strategy_ns = c->strategy_ns,
                              .decide_ns = decide_ns,
                              .intents = c->intents};
    qts_cycles_record(e->cycles, &r);
}

/* The pools' figures to the runtime, for on_cycle's snapshot. */
static void d_pools_updated(void *ctx, const struct qts_pools *p)
{
    struct qts_engine *e = ctx;
    if (!e->rt || !qts_pools_enabled(p))
        return;
    int st[QTS_POOL_COUNT];
    int64_t cap[QTS_POOL_COUNT], av[QTS_POOL_COUNT];
    for (int k = 0; k < QTS_POOL_COUNT; k++) {
        st[k] = qts_pools_state(p, k);
        cap[k] = qts_pools_capital(p, k);
        av[k] = qts_pools_available(p, k);
    }
    qts_lua_runtime_set_pools(e->rt, true, st, cap, av);
}

/* A capital move between pools as a decision record (stage "capital"):
 * no strategy asked it, so its intent names none (strategy 0) and carries
 * the route in its tag ("scalp->swing"). */
static void d_capital_move(void *ctx, const struct qts_capital_move *m)
{
    struct qts_engine *e = ctx;
    struct qts_order_intent in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    snprintf(in.tag, sizeof in.tag, "%s->%s", qts_pool_name(m->from), qts_pool_name(m->to));
    struct qts_decision d = {.ts_ns = m->ts_ns,
                             .intent = &in,
                             .symbol = "",
                             .stage = "capital",
                             .outcome = m->promotion ? "promoted" : "demoted",
                             .codes = "",
                             .reason = m->why,
                             .inputs = m->json};
    qts_bus_decision(&e->bus, &d);
}

/* PreCheck's GR061: the pool's available capital (the risk book). */
static int64_t pool_available(void *ctx, int pool)
{
    struct qts_engine *e = ctx;
    return e->pools ? qts_pools_available(e->pools, pool) : INT64_MAX;
}

void qts__engine_pools_provider(struct qts_engine *e)
{
    e->risk_pf.pool_available = pool_available;
    e->risk_pf.pool_ctx = e;
}

int qts__engine_open_decide(struct qts_engine *e, struct qts_err *err)
{
    const struct qts_cfg_node *cfg = e->set->decide;
    if (cfg && qts_cfg_type(cfg) != QTS_CFG_NULL && qts_cfg_type(cfg) != QTS_CFG_MAP)
        return qts_err_set(err, QTS_ECONFIG, "decide: a mapping");
    struct qts_decide_opts o = {.netting = true, .taker_fee_bps = 0};
    /* the savings estimate: the broker's own taker fee when it names one */
    const struct qts_cfg_node *fee =
        e->set->broker.config ? qts_cfg_get(e->set->broker.config, "taker_fee_bps") : NULL;
    struct qts_err ignored;
    if (fee && qts_cfg_double(fee, &o.taker_fee_bps, &ignored) != 0)
        o.taker_fee_bps = 0;
    if (cfg) {
        static const char *const known[] = {"netting", "taker_fee_bps", "pools", "operating_state",
                                            "capital_flow"};
        for (size_t i = 0; i < qts_cfg_len(cfg); i++) {
            const char *k = qts_cfg_key_at(cfg, i);
            bool ok = false;
            for (size_t j = 0; j < QTS_ARRAY_LEN(known) && !ok; j++)
                ok = strcmp(k, known[j]) == 0;
            if (!ok)
                return qts_err_set(err, QTS_ECONFIG,
                                   "decide: unknown key '%s' (netting, taker_fee_bps, pools, "
                                   "operating_state, capital_flow)",
                                   k);
        }
        const struct qts_cfg_node *v = qts_cfg_get(cfg, "netting");
        if (v && qts_cfg_bool(v, &o.netting, err) != 0)
            return qts_err_set(err, QTS_ECONFIG, "decide.netting: true or false");
        v = qts_cfg_get(cfg, "taker_fee_bps");
        if (v && (qts_cfg_double(v, &o.taker_fee_bps, err) != 0 || o.taker_fee_bps < 0))
            return qts_err_set(err, QTS_ECONFIG, "decide.taker_fee_bps: a number >= 0");
    }
    struct qts_pools_env penv = {.scope = d_scope,
                                 .safety = d_safety,
                                 .state_changed = d_state_changed,
                                 .reserved = d_reserved,
                                 .capital_move = d_capital_move,
                                 .ctx = e};
    int rc = qts_pools_new(cfg, e->portfolio, &penv, &e->pools, err);
    if (rc != 0)
        return rc;
    struct qts_decide_env env = {.submit = qts__engine_rt_submit,
                                 .fill = d_fill,
                                 .order = d_order,
                                 .decision = d_decision,
                                 .safety = d_safety,
                                 .scope = d_scope,
                                 .decision_px = d_decision_px,
                                 .spread = d_spread,
                                 .instrument = qts__engine_instrument,
                                 .now = d_now,
                                 .ctx = e};
    e->decide = qts_decide_new(&o, &env, e->pools);
    e->decide_pub.decide = e->decide; /* the "decide" subscriber starts */
    e->decide_pub.pools = e->pools;
    e->decide_pub.pools_updated = d_pools_updated;
    e->decide_pub.ctx = e;
    struct qts_cycles_env cenv = {.safety = d_safety, .ctx = e};
    e->cycles = qts_cycles_new(e->run_dir, &cenv, QTS_CYCLES_FS060_AFTER);
    e->decide_pub.cycles = e->cycles;
    if (e->pools && e->rt)
        qts_lua_runtime_set_operating_state(e->rt, qts_pools_op_state(e->pools));
    return 0;
}

void qts__engine_close_decide(struct qts_engine *e)
{
    e->decide_pub.decide = NULL;
    e->decide_pub.pools = NULL;
    e->decide_pub.cycles = NULL;
    qts_cycles_free(e->cycles);
    e->cycles = NULL;
    qts_decide_free(e->decide);
    e->decide = NULL;
    qts_pools_free(e->pools);
    e->pools = NULL;
}
