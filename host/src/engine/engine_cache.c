/* engine_cache.c — what the cache subscriber (cache/cache_sub.h) cannot see
 * from its own folder, handed over as providers: risk:account's figures
 * (portfolio, risk limits, safety state), each configured strategy's
 * strat:{id} (its parameters and whether it runs) and the OMS's view of an
 * order (its limit price and quantity asked). Core loop only. */
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "lua_strategy.h"
#include "oms.h"
#include "risk_control.h"
#include "safety.h"

static int prov_risk(void *ctx, struct qts_cache_risk *out)
{
    struct qts_engine *e = ctx;
    const struct qts_risk_limits *lim = &e->set->risk;
    int64_t equity = qts_portfolio_equity(e->portfolio);
    int64_t gross = qts_portfolio_gross_exposure(e->portfolio);
    int64_t cap = (int64_t)((double)equity * lim->max_exposure_pct);
    out->exposure_used = gross;
    out->daily_pnl = equity - e->risk_pf.day_start_equity;
    out->trade_count = (int64_t)qts_portfolio_n_fills(e->portfolio);
    out->remaining_limit = cap > gross ? cap - gross : 0;
    out->max_exposure_pct = 100.0 * lim->max_exposure_pct;
    out->daily_loss_limit =
        (int64_t)((double)e->risk_pf.day_start_equity * lim->daily_loss_limit_pct);
    struct qts_safety *s = e->risk ? qts_risk_control_safety(e->risk) : NULL;
    out->safety_state = s ? qts_safety_state_name(qts_safety_state(s)) : NULL;
    return 0;
}

static int prov_order(void *ctx, uint64_t order_id, struct qts_cache_order_info *out)
{
    struct qts_engine *e = ctx;
    const struct qts_parent *p = e->exec ? qts_oms_find(qts_exec_oms(e->exec), order_id) : NULL;
    if (!p)
        return QTS_ENOENT;
    out->limit_px = p->intent.px;
    out->qty = p->intent.qty;
    out->filled_qty = p->filled_qty;
    out->avg_fill_px = p->filled_qty ? qts_parent_avg_px(p) : 0;
    out->is_final = qts_exec_state_final(p->state);
    return 0;
}

/* strat:{name}: numeric parameters as numbers, true/false as 1/0; text
 * parameters are left out (the writer's fields are numbers). */
static void prov_strategies(void *ctx, qts_cache_strat_fn fn, void *arg)
{
    struct qts_engine *e = ctx;
    uint32_t id = 0; /* the runtime numbers enabled strategies 1, 2, ... in order */
    for (size_t i = 0; i < e->set->n_strategies; i++) {
        const struct qts_strategy_cfg *sc = &e->set->strategies[i];
        struct qts_lua_param params[QTS_LUA_MAX_PARAMS];
        int n = 0;
        if (sc->params) {
            struct qts_err err = {0};
            n = qts_lua_params_from_cfg(sc->params, params, QTS_LUA_MAX_PARAMS, &err);
            if (n < 0)
                n = 0;
        }
        const char *names[QTS_CACHE_STRAT_PARAMS];
        double values[QTS_CACHE_STRAT_PARAMS];
        size_t k = 0;
        for (int j = 0; j < n && k < QTS_CACHE_STRAT_PARAMS; j++) {
            const char *v = params[j].value;
            char *end;
            double d = strtod(v, &end);
            if (!strcmp(v, "true"))
                d = 1, end = "";
            else if (!strcmp(v, "false"))
                d = 0, end = "";
            else if (end == v || *end)
                continue;
            names[k] = params[j].key;
            values[k++] = d;
        }
        bool is_active = false;
        if (sc->enabled) {
            id++;
            struct qts_lua_strategy_info info;
            is_active = e->strategies_added && qts_lua_runtime_info(e->rt, id, &info) == 0 &&
                        info.state == QTS_LUA_ST_RUNNING;
        }
        struct qts_cache_strategy s = {
            .is_active = is_active, .n = k, .names = names, .values = values};
        fn(arg, sc->name, &s);
    }
}

void qts__engine_cache_providers(struct qts_engine *e)
{
    e->cache_pub.books = &e->books;
    e->cache_pub.prov = (struct qts_cache_providers){
        .risk = prov_risk, .order = prov_order, .strategies = prov_strategies, .ctx = e};
}

int qts__engine_cluster_join(struct qts_engine *e, struct qts_err *err)
{
    if (!e->set->cache.plugin)
        return 0;
    const struct qts_settings *s = e->set;
    const char **inst = qts_xcalloc(s->n_instruments + 1, sizeof *inst);
    const char **strat = qts_xcalloc(s->n_strategies + 1, sizeof *strat);
    size_t ns = 0;
    for (size_t i = 0; i < s->n_instruments; i++)
        inst[i] = s->instruments[i].symbol;
    for (size_t i = 0; i < s->n_strategies; i++)
        if (s->strategies[i].enabled)
            strat[ns++] = s->strategies[i].name;
    struct qts_cache_cluster_cfg cc = {.host_id = s->host_id,
                                       .mode = qts_mode_name(s->mode),
                                       .instruments = inst,
                                       .n_instruments = s->n_instruments,
                                       .strategies = strat,
                                       .n_strategies = ns,
                                       .ttl_ms = s->cluster_ttl_ms,
                                       .claim = s->cluster_claim};
    struct qts_plugin_inst *c = qts_plugin_manager_current(e->plugins, "cache");
    int rc = qts_cache_cluster_new(&e->loop, qts_plugin_inst_desc(c)->ops, qts_plugin_inst_self(c),
                                   &cc, &e->cluster, err);
    free(inst);
    free(strat);
    if (rc != 0)
        return rc;
    return qts_cache_cluster_join(e->cluster, s->cluster_claim_timeout_ms, err);
}
