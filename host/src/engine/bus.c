/* bus.c — see bus.h. */
#include "bus.h"

#include <stdio.h>
#include <string.h>

void qts_bus_init(struct qts_bus *b) { memset(b, 0, sizeof *b); }

static void add_call(struct qts_bus *b, enum qts_bus_kind k, struct qts_bus_call c)
{
    b->calls[k][b->n_calls[k]++] = c;
}

int qts_bus_add(struct qts_bus *b, const struct qts_bus_sub *sub)
{
    if (b->n_subs == QTS_BUS_MAX_SUBS)
        return QTS_EFULL;
    b->subs[b->n_subs++] = *sub;
    struct qts_bus_call c = {.self = sub->self};
    if (sub->on_market) {
        c.fn.market = sub->on_market;
        add_call(b, QTS_BUS_MARKET, c);
    }
    if (sub->on_order) {
        c.fn.order = sub->on_order;
        add_call(b, QTS_BUS_ORDER, c);
    }
    if (sub->on_fill) {
        c.fn.fill = sub->on_fill;
        add_call(b, QTS_BUS_FILL, c);
    }
    if (sub->on_safety) {
        c.fn.safety = sub->on_safety;
        add_call(b, QTS_BUS_SAFETY, c);
    }
    if (sub->on_run_end) {
        c.fn.run_end = sub->on_run_end;
        add_call(b, QTS_BUS_RUN_END, c);
    }
    return 0;
}

/* Call `member` of every subscriber of `kind`, in order. */
#define DELIVER(b, kind, member, arg)                                        \
    do {                                                                     \
        const struct qts_bus_call *c_ = (b)->calls[kind];                    \
        for (size_t i_ = 0; i_ < (b)->n_calls[kind]; i_++)                   \
            c_[i_].fn.member(c_[i_].self, arg);                              \
    } while (0)

void qts_bus_market(const struct qts_bus *b, const struct qts_bus_market *m)
{
    DELIVER(b, QTS_BUS_MARKET, market, m);
}

void qts_bus_order(const struct qts_bus *b, const struct qts_order_event *ev)
{
    DELIVER(b, QTS_BUS_ORDER, order, ev);
}

void qts_bus_fill(const struct qts_bus *b, const struct qts_fill *f)
{
    DELIVER(b, QTS_BUS_FILL, fill, f);
}

void qts_bus_safety(const struct qts_bus *b, const struct qts_safety_change *sc)
{
    DELIVER(b, QTS_BUS_SAFETY, safety, sc);
}

int qts_bus_run_end(const struct qts_bus *b, const struct qts_run_end *end, struct qts_err *err)
{
    const struct qts_bus_call *c = b->calls[QTS_BUS_RUN_END];
    for (size_t i = 0; i < b->n_calls[QTS_BUS_RUN_END]; i++) {
        int rc = c[i].fn.run_end(c[i].self, end, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

void qts_bus_describe(const struct qts_bus *b, char *out, size_t cap)
{
    size_t o = 0;
    if (cap)
        out[0] = '\0';
    for (size_t i = 0; i < b->n_subs && o < cap; i++)
        o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "", b->subs[i].name);
}
