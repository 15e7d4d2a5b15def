/* risk_sub.c — see risk_sub.h. */
#include "risk_sub.h"
#include "safety_codes.h"

#include <stdio.h>

#include "log.h"
#include "oms.h"
#include "portfolio.h"
#include "risk_budget.h"
#include "risk_control.h"
#include "util.h"

/* ------------------------------------------------------------ risk host */

static void risk_on_market(void *self, const struct qts_bus_market *m)
{
    struct qts_risk_pub *pub = self;
    if (!pub->host)
        return;
    qts_risk_control_touch(pub->host); /* marks move the equity even without a price here */
    const struct qts_ev_hdr *h = m->ev;
    if (h->type == QTS_EV_TRADE)
        qts_risk_control_on_price(pub->host, h->instrument, ((const struct qts_trade *)h)->px);
    else if (h->type == QTS_EV_BAR) /* the close, known at the bar's end */
        qts_risk_control_on_bar(pub->host, h->instrument, ((const struct qts_bar *)h)->close,
                                ((const struct qts_bar *)h)->period_ns);
    else if (m->bid > 0 && m->ask > 0)
        qts_risk_control_on_price(pub->host, h->instrument, (m->bid + m->ask) / 2); /* fresh mid */
}

static void risk_on_safety(void *self, const struct qts_safety_change *c)
{
    struct qts_risk_pub *pub = self;
    if (pub->host) { /* the safety state machine logs it (safety.c) */
        qts_risk_control_on_exec_safety(pub->host, c->code, c->msg);
        return;
    }
    const struct qts_safety_code_info *ci = qts_safety_code_info(c->code);
    if (ci && ci->effect == QTS_SE_TRIP)
        QTS_ERROR("safety code=%s %s", ci->str, c->msg);
    else
        QTS_WARN("safety notice code=%s %s", qts_safety_code_str(c->code), c->msg);
}

/* Fills move positions and equity, order events settle the loop's exits:
 * the micro risk loop's next tick must look (replays skip idle ticks). */
static void risk_on_order(void *self, const struct qts_order_event *ev)
{
    (void)ev;
    struct qts_risk_pub *pub = self;
    if (pub->host)
        qts_risk_control_touch(pub->host);
}

static void risk_on_fill(void *self, const struct qts_fill *f)
{
    (void)f;
    struct qts_risk_pub *pub = self;
    if (pub->host)
        qts_risk_control_touch(pub->host);
}

struct qts_bus_sub qts_risk_sub(struct qts_risk_pub *pub)
{
    return (struct qts_bus_sub){.name = "risk",
                                .on_market = risk_on_market,
                                .on_order = risk_on_order,
                                .on_fill = risk_on_fill,
                                .on_safety = risk_on_safety,
                                .self = pub};
}

/* ---------------------------------------------------- shared risk budget */

/* Exposure this host needs in the shared budget: the gross exposure of its
 * positions plus the notional still open in its working orders. */
static int64_t budget_needed(const struct qts_budget_pub *pub)
{
    int64_t need = qts_portfolio_gross_exposure(pub->pf);
    for (struct qts_parent *p = qts_oms_active_first(qts_exec_oms(pub->exec)); p;
         p = qts_oms_active_next(p)) {
        int64_t open = p->intent.qty - p->filled_qty;
        if (open <= 0)
            continue;
        int64_t px = p->intent.px;
        if (px <= 0) { /* a market order: the last trade (0 when none is known) */
            struct qts_mkt_ref ref = {0};
            (void)pub->market(pub->market_ctx, p->intent.instrument, &ref);
            px = ref.last;
        }
        need += qts_cash_notional(px, p->inst.px_exp, open, p->inst.qty_exp);
    }
    return need;
}

/* Give back what is no longer needed (after fills and finished orders). */
static void budget_settle(struct qts_budget_pub *pub)
{
    if (!pub->budget)
        return;
    int64_t need = budget_needed(pub);
    if (pub->held > need) {
        qts_risk_budget_return(pub->budget, pub->held - need);
        pub->held = need;
    }
}

static void budget_on_order(void *self, const struct qts_order_event *ev)
{
    if (ev->kind != QTS_OE_ACCEPTED && ev->kind != QTS_OE_REPLACED)
        budget_settle(self);
}

static void budget_on_fill(void *self, const struct qts_fill *f)
{
    (void)f;
    budget_settle(self);
}

int qts_budget_precheck(void *ctx, struct qts_precheck_order *o, struct qts_precheck_reject *rej)
{
    struct qts_budget_pub *pub = ctx;
    int64_t px = o->intent->px > 0 ? o->intent->px : (o->ref ? o->ref->last : 0);
    if (px <= 0 && o->ref)
        px = o->intent->side == QTS_SIDE_BUY ? o->ref->ask : o->ref->bid;
    unsigned px_exp = o->inst ? o->inst->px_exp : 0, qty_exp = o->inst ? o->inst->qty_exp : 0;
    int64_t need = budget_needed(pub) + qts_cash_notional(px, px_exp, o->intent->qty, qty_exp);
    if (need <= pub->held)
        return 0;
    struct qts_err err;
    qts_err_clear(&err);
    if (qts_risk_budget_consume(pub->budget, need - pub->held, &err) != 0) {
        const struct qts_safety_code_info *ci = qts_safety_code_info(QTS_SC_GR119);
        rej->code = ci->number;
        qts_strlcpy(rej->code_str, ci->str, sizeof rej->code_str);
        snprintf(rej->msg, sizeof rej->msg, "shared exposure budget: %.64s", err.msg);
        return QTS_ERISK;
    }
    pub->held = need;
    return 0;
}

struct qts_bus_sub qts_budget_sub(struct qts_budget_pub *pub)
{
    return (struct qts_bus_sub){
        .name = "budget", .on_order = budget_on_order, .on_fill = budget_on_fill, .self = pub};
}
