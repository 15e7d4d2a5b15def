/* engine_status.c — what `qts status` and the web dashboard list about the
 * running host beyond the risk host's own figures: the positions, the
 * working orders, the PnL, each strategy's state and errors, each feed.
 *
 * Written as extra members of the status object (risk_status_extra in
 * engine_admin.c), on the loop thread, so the admin socket and the
 * dashboard answer from one function and always agree. Lists are cut at
 * STATUS_LIST_MAX rows; the counts beside them stay whole. Amounts are
 * decimal strings ("97.00"), exact as the host holds them. */
#include "engine_int.h"

#include "lua_strategy.h"

#define STATUS_LIST_MAX 40

/* A growing JSON text in a caller's buffer: appends stop (and `ok` drops)
 * once the buffer is full, so a cut answer is never half a member. */
struct jbuf {
    char *p;
    size_t cap, n;
    bool ok;
};

static void jput(struct jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jput(struct jbuf *b, const char *fmt, ...)
{
    if (!b->ok)
        return;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (m < 0 || (size_t)m >= b->cap - b->n) {
        b->ok = false;
        b->p[b->n] = '\0';
        return;
    }
    b->n += (size_t)m;
}

static const char *side_name(int side)
{
    return side == QTS_SIDE_BUY ? "buy" : side == QTS_SIDE_SELL ? "sell" : "none";
}

static void put_positions(struct qts_engine *e, struct jbuf *b)
{
    const struct qts_position *v;
    size_t n = qts_portfolio_positions(e->portfolio, &v), shown = 0;
    jput(b, "\"positions\":[");
    for (size_t i = 0; i < n && shown < STATUS_LIST_MAX; i++) {
        const struct qts_position *p = &v[i];
        if (p->qty == 0)
            continue; /* flat: its PnL is in "pnl" */
        char sym[64], qty[48], avg[48], last[48], upnl[48];
        qts_json_escape(sym, sizeof sym, qts_portfolio_symbol(e->portfolio, p->instrument));
        qts_format_fixed(qty, sizeof qty, p->qty, p->qty_exp);
        qts_format_fixed(avg, sizeof avg, qts_position_avg_px(p), p->px_exp);
        qts_format_fixed(last, sizeof last, qts_portfolio_last_px(e->portfolio, p->instrument),
                         p->px_exp);
        qts_format_fixed(upnl, sizeof upnl, qts_portfolio_position_unrealized(e->portfolio, p),
                         QTS_CASH_EXP);
        jput(b,
             "%s{\"symbol\":\"%s\",\"qty\":\"%s\",\"avg_price\":\"%s\",\"last\":\"%s\","
             "\"unrealized\":\"%s\"}",
             shown ? "," : "", sym, qty, avg, last, upnl);
        shown++;
    }
    jput(b, "]");
}

static void put_orders(struct qts_engine *e, struct jbuf *b)
{
    size_t shown = 0;
    jput(b, "\"orders\":[");
    for (struct qts_parent *p = e->exec ? qts_oms_active_first(qts_exec_oms(e->exec)) : NULL;
         p && shown < STATUS_LIST_MAX; p = qts_oms_active_next(p)) {
        const struct qts_order_intent *in = &p->intent;
        char sym[64], qty[48], filled[48], px[56];
        qts_json_escape(sym, sizeof sym, p->inst.symbol);
        qts_format_fixed(qty, sizeof qty, in->qty, p->inst.qty_exp);
        qts_format_fixed(filled, sizeof filled, p->filled_qty, p->inst.qty_exp);
        char lim[48];
        if (in->px) {
            qts_format_fixed(lim, sizeof lim, in->px, p->inst.px_exp);
            snprintf(px, sizeof px, "\"%s\"", lim);
        } else
            snprintf(px, sizeof px, "null"); /* market */
        jput(b,
             "%s{\"id\":%llu,\"strategy\":%u,\"symbol\":\"%s\",\"side\":\"%s\",\"qty\":\"%s\","
             "\"filled\":\"%s\",\"limit\":%s,\"state\":\"%s\"}",
             shown ? "," : "", (unsigned long long)p->order_id, p->strategy_id, sym,
             side_name(in->side), qty, filled, px, qts_exec_state_name(p->state));
        shown++;
    }
    jput(b, "]");
}

static void put_pnl(struct qts_engine *e, struct jbuf *b)
{
    char init[48], eq[48], real[48], unreal[48], fees[48], total[48];
    const struct qts_portfolio *pf = e->portfolio;
    qts_format_fixed(init, sizeof init, qts_portfolio_initial_cash(pf), QTS_CASH_EXP);
    qts_format_fixed(eq, sizeof eq, qts_portfolio_equity(pf), QTS_CASH_EXP);
    qts_format_fixed(real, sizeof real, qts_portfolio_realized(pf), QTS_CASH_EXP);
    qts_format_fixed(unreal, sizeof unreal, qts_portfolio_unrealized(pf), QTS_CASH_EXP);
    qts_format_fixed(fees, sizeof fees, qts_portfolio_fees(pf), QTS_CASH_EXP);
    qts_format_fixed(total, sizeof total, qts_portfolio_equity(pf) - qts_portfolio_initial_cash(pf),
                     QTS_CASH_EXP);
    jput(b,
         "\"pnl\":{\"initial_cash\":\"%s\",\"equity\":\"%s\",\"total\":\"%s\","
         "\"realized\":\"%s\",\"unrealized\":\"%s\",\"fees\":\"%s\"}",
         init, eq, total, real, unreal, fees);
}

/* Enabled strategies carry the runtime's ids 1, 2, ... in configuration
 * order (as risk_strategy_id). */
static void put_strategies(struct qts_engine *e, struct jbuf *b)
{
    jput(b, "\"strategies\":[");
    uint32_t id = 0;
    for (size_t i = 0; i < e->set->n_strategies; i++) {
        const struct qts_strategy_cfg *sc = &e->set->strategies[i];
        if (!sc->enabled)
            continue;
        id++;
        struct qts_lua_strategy_info info;
        bool have = e->rt && e->strategies_added && qts_lua_runtime_info(e->rt, id, &info) == 0;
        char name[128], err[2 * QTS_LUA_ERR_MAX];
        qts_json_escape(name, sizeof name, sc->name);
        qts_json_escape(err, sizeof err, have ? info.last_error : "");
        jput(b,
             "%s{\"id\":%u,\"name\":\"%s\",\"state\":\"%s\",\"events\":%llu,\"errors\":%llu,"
             "\"last_error\":\"%s\",\"budget_over\":%llu}",
             id > 1 ? "," : "", id, name, have ? qts_lua_state_name(info.state) : "not started",
             have ? (unsigned long long)info.events : 0ULL,
             have ? (unsigned long long)info.errors : 0ULL, err,
             have ? (unsigned long long)info.budget_over : 0ULL);
    }
    jput(b, "]");
}

static void put_feeds(struct qts_engine *e, struct jbuf *b)
{
    jput(b, "\"feeds\":[");
    for (size_t i = 0; i < e->n_feeds; i++) {
        const struct feed_slot *f = &e->feeds[i];
        char name[128];
        qts_json_escape(name, sizeof name, f->name);
        const char *state = f->failed ? "failed" : f->at_eof ? "ended" : "running";
        jput(b, "%s{\"name\":\"%s\",\"state\":\"%s\",\"error\":\"%s\"}", i ? "," : "", name, state,
             f->failed ? qts_strerror(f->failed) : "");
    }
    jput(b, "]");
}

/* The safety codes behind the state: what tripped the last FAIL or
 * LOCKDOWN, who pulled the kill switch, and every code raised so far. */
static void put_safety(struct qts_engine *e, struct jbuf *b)
{
    struct qts_safety *sf = e->risk ? qts_risk_control_safety(e->risk) : NULL;
    if (!sf)
        return;
    struct qts_safety_latch l;
    qts_safety_latch_get(sf, &l);
    char msg[340], who[140], why[340];
    qts_json_escape(msg, sizeof msg, l.state_msg);
    qts_json_escape(who, sizeof who, l.kill_who);
    qts_json_escape(why, sizeof why, l.kill_reason);
    jput(b, "\"safety_cause\":{\"code\":\"%s\",\"message\":\"%s\",\"kill_by\":\"%s\",",
         l.code >= 0 ? qts_safety_code_str(l.code) : "", msg, l.kill ? who : "");
    jput(b, "\"kill_reason\":\"%s\"},\"safety_codes\":{", l.kill ? why : "");
    int shown = 0;
    for (int c = 0; c < QTS_SC_COUNT; c++) {
        uint64_t n = qts_safety_raised(sf, c);
        if (n)
            jput(b, "%s\"%s\":%llu", shown++ ? "," : "", qts_safety_code_str(c),
                 (unsigned long long)n);
    }
    jput(b, "},");
}

int qts__engine_status_lists(struct qts_engine *e, char *out, size_t cap)
{
    if (cap == 0)
        return 0;
    struct jbuf b = {.p = out, .cap = cap, .ok = true};
    out[0] = '\0';
    char host[128];
    qts_json_escape(host, sizeof host, e->set->host_id);
    jput(&b, "\"host_id\":\"%s\",\"run_id\":\"%s\",", host, e->run_id);
    put_safety(e, &b);
    if (e->portfolio) {
        const struct qts_position *v;
        size_t n = qts_portfolio_positions(e->portfolio, &v), open = 0;
        for (size_t i = 0; i < n; i++)
            open += v[i].qty != 0;
        put_positions(e, &b);
        jput(&b, ",\"positions_open\":%zu,", open); /* the list may be cut */
        put_pnl(e, &b);
        jput(&b, ",");
    }
    put_orders(e, &b);
    jput(&b, ",");
    put_strategies(e, &b);
    jput(&b, ",");
    put_feeds(e, &b);
    return b.ok ? (int)b.n : 0;
}
