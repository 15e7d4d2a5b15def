/* portfolio_sub.c — see portfolio_sub.h. */
#include "portfolio_sub.h"

#include <inttypes.h>

#include "log.h"
#include "portfolio.h"

static void pf_on_market(void *self, const struct qts_bus_market *m)
{
    const struct qts_ev_hdr *h = m->ev;
    if (h->type == QTS_EV_TRADE)
        qts_portfolio_mark(self, h->instrument, ((const struct qts_trade *)h)->px, h->px_exp);
    else if (h->type == QTS_EV_BAR)
        qts_portfolio_mark(self, h->instrument, ((const struct qts_bar *)h)->close, h->px_exp);
}

static void pf_on_fill(void *self, const struct qts_fill *f)
{
    int rc = qts_portfolio_apply_fill(self, f);
    if (rc != 0)
        QTS_ERROR("portfolio refused fill order=%" PRIu64 " rc=%s", f->order_id, qts_err_name(rc));
}

struct qts_bus_sub qts_portfolio_sub(struct qts_portfolio *pf)
{
    return (struct qts_bus_sub){
        .name = "portfolio", .on_market = pf_on_market, .on_fill = pf_on_fill, .self = pf};
}
